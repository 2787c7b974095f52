{#- A DuckDB table built in slices of orders, one statement per slice.

    Why: the models that nest JSON (an order's items, a line's flight
    segments) aggregate strings, and DuckDB cannot spill string aggregate
    states to disk (duckdb/duckdb#14132): one statement over 10M orders holds
    every item's JSON in memory at once. Built a slice at a time, memory
    follows the slice, not the warehouse.

    The model marks where its rows are sliced with
    {{ build_slice_filter('orders.order_id') }}; the number of slices is the
    row count of `slice_count_from` (a model name) divided by the var
    `orders_per_build_slice`, at least 1. The slices are hash buckets of the
    column, so every row is in exactly one of them whatever its value. -#}
{% materialization sliced_table, adapter='duckdb' %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}

    {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
    {{ drop_relation_if_exists(preexisting_backup_relation) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set slices = build_slice_count(ref(config.require('slice_count_from'))) -%}
    {%- for slice in range(slices) -%}
        {%- set slice_sql = compiled_code
            | replace('/* build slices */ 1', slices | string)
            | replace('/* build slice */ 0', slice | string) -%}
        {%- if loop.first -%}
            {% call statement('main') -%}
                {{ create_table_as(False, intermediate_relation, slice_sql) }}
            {%- endcall %}
        {%- else -%}
            {% call statement('slice_' ~ slice) -%}
                insert into {{ intermediate_relation }} {{ slice_sql }}
            {%- endcall %}
        {%- endif -%}
    {%- endfor -%}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}

{#- How many slices: one per `orders_per_build_slice` rows of `relation`. -#}
{% macro build_slice_count(relation) -%}
    {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {%- set per_slice = var('orders_per_build_slice') | int -%}
    {{ return([1, ((rows + per_slice - 1) // per_slice) | int] | max) }}
{%- endmacro %}

{#- True for the rows of the slice being built; true for every row where the
    model is a plain table (other engines). As compiled it reads "slice 0 of
    1", every row, so the compiled SQL (a unit test, a run by hand) is whole. -#}
{% macro build_slice_filter(column) -%}
    {%- if config.get('materialized') == 'sliced_table' -%}
        hash({{ column }}) % /* build slices */ 1 = /* build slice */ 0
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
