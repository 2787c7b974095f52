{#- Overrides of dbt's own macros on Spark. The spark profile reads string
    literals as written (spark.sql.parser.escapedStringLiterals), so that the
    backslashes of regular expressions reach the engine; these keep dbt's
    generated SQL valid under that setting. -#}

{#- A text literal of any value: a backslash or a quote cannot be written
    inside a literal, so they become chr(92) and chr(39) between pieces.
    `value` arrives with its quotes escaped as \' by escape_single_quotes. -#}
{% macro spark__string_literal(value) -%}
    {%- set original = value | replace("\\'", "'") -%}
    {%- if '\\' not in original and "'" not in original -%}
        '{{ original }}'
    {%- else -%}
        concat(
        {%- for chunk in original.split('\\') -%}
            {%- if not loop.first %}, chr(92), {% endif -%}
            {%- for piece in chunk.split("'") -%}
                {%- if not loop.first %}, chr(39), {% endif -%}
                '{{ piece }}'
            {%- endfor -%}
        {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{#- Contracts name text columns varchar (DuckDB, PostgreSQL); Spark's text
    type is string, and it refuses varchar without a length. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set col_err = [] -%}
    select
    {% for i in columns %}
      {%- set col = columns[i] -%}
      {%- if col['data_type'] is not defined -%}
        {%- do col_err.append(col['name']) -%}
      {%- endif -%}
      {%- set data_type = 'string' if col.get('data_type', '') | trim | lower == 'varchar' else col['data_type'] -%}
      {% set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] %}
      {{ cast('null', data_type) }} as {{ col_name }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- if (col_err | length) > 0 -%}
      {{ exceptions.column_type_missing(column_names=col_err) }}
    {%- endif -%}
{%- endmacro %}

{#- Tables are Parquet unless a model says otherwise: Hive's default text
    format would cut a value holding a newline into two rows. -#}
{% macro spark__file_format_clause() -%}
    using {{ config.get('file_format', 'parquet') }}
{%- endmacro %}

{#- dbt-spark adds NOT NULL to contracted columns when no file format is set,
    as if the table were Delta; only Delta tables take constraints. The
    contracts' names and types are checked on every format. -#}
{% macro spark__persist_constraints(relation, model) -%}
    {%- if config.get('contract').enforced and config.get('file_format', 'parquet') == 'delta' -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
    {%- endif -%}
{%- endmacro %}
