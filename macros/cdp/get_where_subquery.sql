{#- dbt's own hook for a test's `where` config (docs: resource-configs/where,
    "Custom logic"), with one placeholder: `__orders_rebuilt__` stands for
    the orders this build rebuilt, so that a nightly build tests the rows it
    wrote and not the million it left as they were (tested the night they
    were written). A test scoped so reads, in the yml:

        config: {where: "__orders_rebuilt__"}

    Every other `where` is dbt's as it is. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set fence = '' -%}
    {%- if where and '__orders_rebuilt__' in where -%}
        {%- set rebuilt = orders_rebuilt_filter() -%}
        {%- set where = where | replace('__orders_rebuilt__', rebuilt) -%}
        {#- `offset 0` keeps the test's own condition out of the table scan:
            DuckDB pushed a regular expression on cdp_batch_records.record
            into it, ran it on every record, and only then kept the 2% the
            night rebuilt (1M orders: 5.8 s -> 1.3 s). PostgreSQL reads the
            same fence the same way. -#}
        {%- set fence = '' if rebuilt == 'true' else ' offset 0' -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ fence ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The orders rebuilt by this invocation, in a test of an order-grain
    incremental model (unique_key order_id): those int_orders_touched gave
    this build's id, when this invocation built it (the night). True, that
    is every row, in a test of any other model (a table built whole is
    tested whole), on `--full-refresh`, when int_orders_touched is not part
    of the invocation (a plain `dbt test`, a selection without it), and on a
    first build, whose touched orders are all of them. -#}
{% macro orders_rebuilt_filter() -%}
    {%- set touched_id = 'model.cdp_orders.int_orders_touched' -%}
    {%- if not execute or flags.FULL_REFRESH or touched_id not in selected_resources -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) -%}
    {%- if tested is none or tested.config.materialized != 'incremental'
        or tested.config.unique_key != 'order_id' -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set touched = graph.nodes[touched_id].relation_name -%}
    {{ return('order_id in (select touched.order_id from ' ~ touched ~ ' as touched'
        ~ ' where touched.touched_build_id = ' ~ build_id() ~ ')') }}
{%- endmacro %}
