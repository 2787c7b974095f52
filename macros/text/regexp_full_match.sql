{#- True when the whole text matches the regular expression (RE2 syntax). -#}
{% macro regexp_full_match(text, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'cdp_orders')(text, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_full_match(text, pattern) -%}
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

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__regexp_full_match(text, pattern) -%}
    {{ exceptions.raise_compiler_error('regexp_full_match is not implemented for ' ~ target.type) }}
{%- endmacro %}
