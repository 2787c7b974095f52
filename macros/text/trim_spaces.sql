{#- Trims U+0020 only (raw_warehouse.md: tabs and other white space are data). -#}
{% macro trim_spaces(expression) -%}
    {{ return(adapter.dispatch('trim_spaces', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro duckdb__trim_spaces(expression) -%}
    trim({{ expression }}, ' ')
{%- endmacro %}

{% macro postgres__trim_spaces(expression) -%}
    btrim({{ expression }}, ' ')
{%- endmacro %}

{% macro spark__trim_spaces(expression) -%}
    btrim({{ expression }}, ' ')
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__trim_spaces(expression) -%}
    {{ exceptions.raise_compiler_error('trim_spaces is not implemented for ' ~ target.type) }}
{%- endmacro %}
