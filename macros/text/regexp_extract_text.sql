{#- The part of the text the regular expression matches (or its capture
    group `group`); '' when it does not match, null when the text is null. -#}
{% macro regexp_extract_text(text, pattern, group=none) -%}
    {{ return(adapter.dispatch('regexp_extract_text', 'cdp_orders')(text, pattern, group)) }}
{%- endmacro %}

{% macro duckdb__regexp_extract_text(text, pattern, group) -%}
    regexp_extract({{ text }}, {{ pattern }}{% if group is not none %}, {{ group }}{% endif %})
{%- endmacro %}

{% macro postgres__regexp_extract_text(text, pattern, group) -%}
    case when {{ text }} is not null then coalesce(
        {%- if group is none %}
        (regexp_match({{ text }}, '(' || {{ pattern }} || ')'))[1],
        {%- else %}
        (regexp_match({{ text }}, {{ pattern }}))[{{ group }}],
        {%- endif %}
        ''
    ) end
{%- endmacro %}

{% macro spark__regexp_extract_text(text, pattern, group) -%}
    regexp_extract({{ text }}, {{ pattern }}, {{ 0 if group is none else group }})
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__regexp_extract_text(text, pattern, group) -%}
    {{ exceptions.raise_compiler_error('regexp_extract_text is not implemented for ' ~ target.type) }}
{%- endmacro %}
