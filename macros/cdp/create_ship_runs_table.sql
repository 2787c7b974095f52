{#- The loader's record of its ship runs, one row per run, written by
    cdp_loader.run_history.record_ship_run after every ship. dbt never
    writes it; it creates it empty on a new warehouse so that the history
    can be read (source cdp_state.cdp_ship_runs) before the first ship. -#}
{% macro create_ship_runs_table() -%}
    {{ return(adapter.dispatch('create_ship_runs_table', 'cdp_orders')()) }}
{%- endmacro %}

{% macro duckdb__create_ship_runs_table() -%}
    create schema if not exists {{ cdp_schema() }};
    create table if not exists {{ cdp_schema() }}.cdp_ship_runs (
        run_id varchar primary key,
        started_at timestamp not null,
        finished_at timestamp not null,
        scope varchar not null,
        batch_dir varchar not null,
        files bigint not null,
        bytes bigint not null,
        records_sent bigint not null,
        records_succeeded bigint not null,
        records_rejected bigint not null,
        rejected_by_code varchar not null,
        deletes_already_absent bigint not null,
        duration_seconds double precision not null,
        exit_code integer not null
    );
{%- endmacro %}

{#- Spark runs one statement at a time; its text type is string and it has
    no primary keys (the writer keeps run_id unique). -#}
{% macro spark__create_ship_runs_table() -%}
    {% do run_query('create schema if not exists ' ~ cdp_schema()) %}
    create table if not exists {{ cdp_schema() }}.cdp_ship_runs (
        run_id string,
        started_at timestamp,
        finished_at timestamp,
        scope string,
        batch_dir string,
        files bigint,
        bytes bigint,
        records_sent bigint,
        records_succeeded bigint,
        records_rejected bigint,
        rejected_by_code string,
        deletes_already_absent bigint,
        duration_seconds double,
        exit_code int
    ) using parquet
{%- endmacro %}

{#- PostgreSQL runs the same SQL as DuckDB. -#}
{% macro postgres__create_ship_runs_table() -%}
    {{ return(duckdb__create_ship_runs_table()) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__create_ship_runs_table() -%}
    {{ exceptions.raise_compiler_error('create_ship_runs_table is not implemented for ' ~ target.type) }}
{%- endmacro %}
