{#- Schemas are public names (`cdp`, `staging`, ...). In production they are
    used as configured; a development or CI build against the same warehouse
    sets CDP_DBT_SCHEMA (which is also the target's schema, profiles.yml) and
    gets dbt's convention instead: the target's schema as a prefix,
    `<CDP_DBT_SCHEMA>_cdp`, `<CDP_DBT_SCHEMA>_staging`, ... so that it never
    writes the production schemas. The loader computes the same names
    (cdp_loader.warehouse.mart_schema). The raw tables are read where they are. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif is_production() -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- Production unless CDP_DBT_SCHEMA names a development or CI schema. -#}
{% macro is_production() -%}
    {{ return(env_var('CDP_DBT_SCHEMA', '') | trim == '') }}
{%- endmacro %}

{#- The schema the mart (and the loader's tables) live in: `cdp` in production. -#}
{% macro cdp_schema() -%}
    {{ return(generate_schema_name('cdp', none) | trim) }}
{%- endmacro %}
