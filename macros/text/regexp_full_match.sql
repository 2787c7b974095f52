{#- True when the whole text matches the regular expression (RE2 syntax). -#}
{% macro regexp_full_match(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'cdp_orders')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, {{ pattern }})
{%- endmacro %}
