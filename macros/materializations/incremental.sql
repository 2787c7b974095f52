{#- dbt's incremental materialization on DuckDB, with one addition: the
    first build and `--full-refresh` of a model that names `slices_from` is
    built in slices, as a sliced_table (macros/materializations/sliced_table.sql),
    so a backfill's memory follows the slice. A nightly run is dbt-duckdb's
    own incremental build, unchanged. -#}
{% materialization incremental, adapter='duckdb', supported_languages=['sql'] %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if config.get('slices_from')
        and (existing_relation is none or existing_relation.is_view or should_full_refresh()) -%}
        {{ return(build_sliced_table()) }}
    {%- else -%}
        {{ return(dbt.materialization_incremental_duckdb()) }}
    {%- endif -%}
{% endmaterialization %}
