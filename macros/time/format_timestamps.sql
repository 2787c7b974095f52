{#- CDP's order timestamps: UTC with milliseconds, 'YYYY-MM-DDTHH:MM:SS.sssZ'. -#}
{% macro format_utc_millis(timestamp_expression) -%}
    {{ return(adapter.dispatch('format_utc_millis', 'cdp_orders')(timestamp_expression)) }}
{%- endmacro %}

{% macro duckdb__format_utc_millis(timestamp_expression) -%}
    strftime({{ timestamp_expression }}, '%Y-%m-%dT%H:%M:%S.%gZ')
{%- endmacro %}

{#- A flight segment's local wall-clock time as the source text wrote it, its
    offset dropped (not converted): 'YYYY-MM-DDTHH:MMZ'. Null when the text
    does not parse. -#}
{% macro format_local_minutes(text) -%}
    case when {{ parse_iso8601_utc(text) }} is not null then
        substr({{ text }}, 1, 10) || 'T' || substr({{ text }}, 12, 5) || 'Z'
    end
{%- endmacro %}

{#- dateOfBirth: 'YYYY-MM-DDT00:00Z'. -#}
{% macro format_date_midnight(date_expression) -%}
    {{ return(adapter.dispatch('format_date_midnight', 'cdp_orders')(date_expression)) }}
{%- endmacro %}

{% macro duckdb__format_date_midnight(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m-%d') || 'T00:00Z'
{%- endmacro %}

{#- A raw timestamptz as the UTC instant cut to milliseconds, without zone. -#}
{% macro to_utc_millis(timestamptz_expression) -%}
    {{ return(adapter.dispatch('to_utc_millis', 'cdp_orders')(timestamptz_expression)) }}
{%- endmacro %}

{% macro duckdb__to_utc_millis(timestamptz_expression) -%}
    date_trunc('millisecond', timezone('UTC', {{ timestamptz_expression }}))
{%- endmacro %}

{% macro postgres__format_utc_millis(timestamp_expression) -%}
    to_char({{ timestamp_expression }}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
{%- endmacro %}

{% macro postgres__format_date_midnight(date_expression) -%}
    to_char({{ date_expression }}, 'YYYY-MM-DD') || 'T00:00Z'
{%- endmacro %}

{% macro postgres__to_utc_millis(timestamptz_expression) -%}
    date_trunc('milliseconds', {{ timestamptz_expression }} at time zone 'UTC')
{%- endmacro %}

{% macro spark__format_utc_millis(timestamp_expression) -%}
    date_format({{ timestamp_expression }}, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
{%- endmacro %}

{% macro spark__format_date_midnight(date_expression) -%}
    date_format({{ date_expression }}, 'yyyy-MM-dd') || 'T00:00Z'
{%- endmacro %}

{#- Spark's timestamps are instants shown in the session zone (UTC, profile). -#}
{% macro spark__to_utc_millis(timestamptz_expression) -%}
    date_trunc('MILLISECOND', {{ timestamptz_expression }})
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__format_date_midnight(date_expression) -%}
    {{ exceptions.raise_compiler_error('format_date_midnight is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__format_utc_millis(timestamp_expression) -%}
    {{ exceptions.raise_compiler_error('format_utc_millis is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__to_utc_millis(timestamptz_expression) -%}
    {{ exceptions.raise_compiler_error('to_utc_millis is not implemented for ' ~ target.type) }}
{%- endmacro %}
