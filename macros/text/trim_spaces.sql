{#- Trims U+0020 only (raw_warehouse.md: tabs and other white space are data). -#}
{% macro trim_spaces(expression) -%}
    {{ return(adapter.dispatch('trim_spaces', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro default__trim_spaces(expression) -%}
    trim({{ expression }}, ' ')
{%- endmacro %}

{% macro postgres__trim_spaces(expression) -%}
    btrim({{ expression }}, ' ')
{%- endmacro %}

{% macro spark__trim_spaces(expression) -%}
    btrim({{ expression }}, ' ')
{%- endmacro %}
