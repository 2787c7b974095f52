{#- dbt's incremental materialization on DuckDB, with two additions for the
    models that name `slices_from`, so that memory follows a slice, not the
    warehouse:
    - the first build and `--full-refresh` are built in slices, as a
      sliced_table (macros/materializations/sliced_table.sql);
    - a nightly build that touched more orders than a slice holds (the
      first night after a failed one, or after an upgrade that changed the
      fingerprints of int_orders_touched) appends them in the same slices.
    Any other night is dbt-duckdb's own incremental build, unchanged. -#}
{% materialization incremental, adapter='duckdb', supported_languages=['sql'] %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if config.get('slices_from')
        and (existing_relation is none or existing_relation.is_view or should_full_refresh()) -%}
        {{ return(build_sliced_table()) }}
    {%- elif config.get('slices_from') and touched_orders_outnumber_a_slice() -%}
        {{ return(append_in_slices()) }}
    {%- else -%}
        {{ return(dbt.materialization_incremental_duckdb()) }}
    {%- endif -%}
{% endmaterialization %}

{#- Whether this build touched more orders (int_orders_touched) than a
    slice of the model holds. -#}
{% macro touched_orders_outnumber_a_slice() -%}
    {%- set query -%}
        select count(*) from {{ ref('int_orders_touched') }}
        where touched_build_id = {{ build_id() }}
    {%- endset -%}
    {%- set touched = run_query(query).columns[0].values()[0] -%}
    {{ return(touched > config.get('rows_per_slice', var('orders_per_build_slice')) | int) }}
{%- endmacro %}

{#- A nightly build in the backfill's slices. Every model that names
    `slices_from` deletes the rows of the touched orders in a pre-hook
    (delete_touched_rows, delete_touched_batch_records), so each slice's
    rows, those of the touched orders in it, are appended: no temporary
    table holds them all. -#}
{% macro append_in_slices() %}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set cuts = model_slice_cuts() -%}
    {%- for slice in range(cuts | length + 1) -%}
        {%- set slice_sql = build_slice_sql(compiled_code, cuts, slice) -%}
        {% call statement('main' if loop.first else 'slice_' ~ slice) -%}
            insert into {{ this }} by name {{ slice_sql }}
        {%- endcall %}
    {%- endfor -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [this.incorporate(type='table')]}) }}
{% endmacro %}
