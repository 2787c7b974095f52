{#- CDP's order timestamps: UTC with milliseconds, 'YYYY-MM-DDTHH:MM:SS.sssZ'. -#}
{% macro format_utc_millis(timestamp_expression) -%}
    {{ return(adapter.dispatch('format_utc_millis', 'cdp_orders')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__format_utc_millis(timestamp_expression) -%}
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

{% macro default__format_date_midnight(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m-%d') || 'T00:00Z'
{%- endmacro %}

{#- A raw timestamptz as the UTC instant cut to milliseconds, without zone. -#}
{% macro to_utc_millis(timestamptz_expression) -%}
    {{ return(adapter.dispatch('to_utc_millis', 'cdp_orders')(timestamptz_expression)) }}
{%- endmacro %}

{% macro default__to_utc_millis(timestamptz_expression) -%}
    date_trunc('millisecond', timezone('UTC', {{ timestamptz_expression }}))
{%- endmacro %}
