{#- True when the whole text matches the regular expression (RE2 syntax). -#}
{% macro regexp_full_match(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'cdp_orders')(text, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, {{ pattern }})
{%- endmacro %}

{#- PostgreSQL's regular expressions (ARE) read the patterns of this project
    as RE2 does; anchored around the whole pattern. -#}
{% macro postgres__regexp_full_match(text, pattern) -%}
    ({{ text }} ~ ('^(?:' || {{ pattern }} || ')$'))
{%- endmacro %}

{% macro spark__regexp_full_match(text, pattern) -%}
    ({{ text }} rlike concat('^(?:', {{ pattern }}, ')$'))
{%- endmacro %}
