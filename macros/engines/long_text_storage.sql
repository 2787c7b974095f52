{#- DuckDB stores long text, the JSON of orders, items, segments, contacts
    and passengers, uncompressed or in FSST dictionaries; ZSTD keeps it at a
    third of FSST and reads as fast (cdp_batch_records at 100k orders:
    264 MB uncompressed, 112 MB FSST, 38 MB ZSTD; bench/RESULTS.md). A model
    that holds such text, before its transaction, checkpoints (what earlier
    models left in the write-ahead log is stored as DuckDB chooses) and
    forces ZSTD; after its commit it checkpoints again, so that its own rows
    still in the log are stored with ZSTD too, and gives the choice back to
    DuckDB: for short text its dictionaries are smaller. It takes a warehouse file of storage version v1.2 or later
    (profiles.yml); in an older file DuckDB stores the text uncompressed,
    as it did before. PostgreSQL (TOAST) and Spark (Parquet) compress long
    text of their own accord. -#}
{% macro begin_long_text_compression() -%}
    {{ return(adapter.dispatch('begin_long_text_compression', 'cdp_orders')()) }}
{%- endmacro %}

{% macro duckdb__begin_long_text_compression() -%}
    checkpoint;
    set force_compression = 'zstd'
{%- endmacro %}

{% macro postgres__begin_long_text_compression() -%}{%- endmacro %}

{% macro spark__begin_long_text_compression() -%}{%- endmacro %}

{% macro default__begin_long_text_compression() -%}
    {{ exceptions.raise_compiler_error('begin_long_text_compression is not implemented for ' ~ target.type) }}
{%- endmacro %}

{% macro end_long_text_compression() -%}
    {{ return(adapter.dispatch('end_long_text_compression', 'cdp_orders')()) }}
{%- endmacro %}

{% macro duckdb__end_long_text_compression() -%}
    checkpoint;
    reset force_compression
{%- endmacro %}

{% macro postgres__end_long_text_compression() -%}{%- endmacro %}

{% macro spark__end_long_text_compression() -%}{%- endmacro %}

{% macro default__end_long_text_compression() -%}
    {{ exceptions.raise_compiler_error('end_long_text_compression is not implemented for ' ~ target.type) }}
{%- endmacro %}
