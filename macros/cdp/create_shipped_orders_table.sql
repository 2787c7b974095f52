{#- The loader's record of what it shipped, appended to after every batch
    that reached a final status. dbt never writes it; it creates it empty on
    a new warehouse so that the models that read it can build. -#}
{% macro create_shipped_orders_table() -%}
    {{ return(adapter.dispatch('create_shipped_orders_table', 'cdp_orders')()) }}
{%- endmacro %}

{% macro duckdb__create_shipped_orders_table() -%}
    create schema if not exists {{ cdp_schema() }};
    create table if not exists {{ cdp_schema() }}.cdp_shipped_orders (
        order_id bigint not null,
        reference_id varchar not null,
        ordered_at timestamp not null,
        record_hash varchar,
        mode varchar not null,
        outcome varchar not null,
        error_code varchar,
        batch_ref varchar not null,
        record_ref varchar not null,
        batch_file varchar not null,
        shipped_at timestamp not null
    );
{%- endmacro %}

{#- Spark runs one statement at a time; its text type is string. -#}
{% macro spark__create_shipped_orders_table() -%}
    {% do run_query('create schema if not exists ' ~ cdp_schema()) %}
    create table if not exists {{ cdp_schema() }}.cdp_shipped_orders (
        order_id bigint,
        reference_id string,
        ordered_at timestamp,
        record_hash string,
        mode string,
        outcome string,
        error_code string,
        batch_ref string,
        record_ref string,
        batch_file string,
        shipped_at timestamp
    ) using parquet
{%- endmacro %}

{#- PostgreSQL runs the same SQL as DuckDB. -#}
{% macro postgres__create_shipped_orders_table() -%}
    {{ return(duckdb__create_shipped_orders_table()) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__create_shipped_orders_table() -%}
    {{ exceptions.raise_compiler_error('create_shipped_orders_table is not implemented for ' ~ target.type) }}
{%- endmacro %}
