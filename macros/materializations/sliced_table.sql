{#- A DuckDB table built in slices of orders, one statement per slice.

    Why: the models that nest JSON (an order's items, a line's flight
    segments) aggregate strings, and DuckDB cannot spill string aggregate
    states to disk (duckdb/duckdb#14132): one statement over 10M orders holds
    every item's JSON in memory at once. Built a slice at a time, memory
    follows the slice, not the warehouse.

    The model marks where its rows are sliced with
    {{ build_slice_filter('orders.order_id') }}, and what belongs to the
    first slice only with {{ build_slice_is_first() }}. The slices are ranges
    of the column `sliced_by` (order_id unless said) of the model
    `slices_from`, one per `rows_per_slice` of its rows (the var
    `orders_per_build_slice` unless the model says), at least one, cut at
    its quantiles: every key falls in exactly one, and they are
    built in key order, so a model that sorts each slice by the key is
    stored sorted whole. -#}
{% materialization sliced_table, adapter='duckdb' %}
    {{ return(build_sliced_table()) }}
{% endmaterialization %}

{#- The sliced build itself: sliced_table's, and the full refresh (or first
    build) of an incremental model that names `slices_from`
    (macros/materializations/incremental.sql). -#}
{% macro build_sliced_table() %}

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

    {%- set cuts = model_slice_cuts() -%}
    {%- for slice in range(cuts | length + 1) -%}
        {%- set slice_sql = build_slice_sql(compiled_code, cuts, slice) -%}
        {%- if loop.first -%}
            {% call statement('main') -%}
                {{ create_table_as(False, intermediate_relation, slice_sql) }}
            {%- endcall %}
        {%- else -%}
            {% call statement('slice_' ~ slice) -%}
                insert into {{ intermediate_relation }} by name {{ slice_sql }}
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

{% endmacro %}

{#- The cuts of the model being built: its `slices_from`, `sliced_by` and
    `rows_per_slice` (sliced_table's description). -#}
{% macro model_slice_cuts() -%}
    {{ return(build_slice_cuts(
        ref(config.require('slices_from')),
        config.get('sliced_by', 'order_id'),
        config.get('rows_per_slice', var('orders_per_build_slice')),
    )) }}
{%- endmacro %}

{#- The model's SQL for slice number `slice` of those `cuts` delimit. -#}
{% macro build_slice_sql(sql, cuts, slice) -%}
    {%- set slice_sql = sql | replace('/* build slice */ 0', slice | string) -%}
    {%- if slice > 0 -%}
        {%- set slice_sql = slice_sql
            | replace('/* build slice after */ null', build_slice_literal(cuts[slice - 1])) -%}
    {%- endif -%}
    {%- if slice < cuts | length -%}
        {%- set slice_sql = slice_sql
            | replace('/* build slice through */ null', build_slice_literal(cuts[slice])) -%}
    {%- endif -%}
    {{ return(slice_sql) }}
{%- endmacro %}

{#- Where the slices of `relation`'s rows are cut: the last `key` of every
    slice but the last, one slice per `rows_per_slice` rows. -#}
{% macro build_slice_cuts(relation, key, rows_per_slice) -%}
    {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {%- set per_slice = [1, rows_per_slice | int] | max -%}
    {%- set slices = [1, ((rows + per_slice - 1) // per_slice) | int] | max -%}
    {%- if slices == 1 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set fractions = [] -%}
    {%- for cut in range(1, slices) -%}
        {%- do fractions.append(cut ~ ' / ' ~ slices) -%}
    {%- endfor -%}
    {%- set query -%}
        select distinct unnest(quantile_disc({{ key }}, [{{ fractions | join(', ') }}])) as cut
        from {{ relation }}
        order by cut
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro build_slice_literal(value) -%}
    {%- if value is string -%}
        {{ return("'" ~ value | replace("'", "''") ~ "'") }}
    {%- else -%}
        {{ return(value | int | string) }}
    {%- endif -%}
{%- endmacro %}

{#- True for the keys of the slice being built (after the previous slice's
    last key, through its own last); true for every row where the model is
    not sliced (other engines). As compiled the bounds are null, which
    coalesce reads as "no bound": the compiled SQL (a unit test, a run by
    hand) is whole. -#}
{% macro build_slice_filter(key) -%}
    {%- if target.type == 'duckdb' -%}
        (
            coalesce({{ key }} > /* build slice after */ null, true)
            and coalesce({{ key }} <= /* build slice through */ null, true)
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- True in the first slice only: for rows that must come before every
    slice's orders (a model stored in file order puts its deletes there). -#}
{% macro build_slice_is_first() -%}
    {%- if target.type == 'duckdb' -%}
        /* build slice */ 0 = 0
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
