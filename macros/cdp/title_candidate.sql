{#- A title as CDP writes it ('mrs.' -> 'Mrs'): the trailing dot dropped,
    title case. The model keeps it only when it is in the cdp_titles seed. -#}
{% macro title_candidate(title) -%}
    {{ title_case("regexp_replace(" ~ title ~ ", '\\.$', '')") }}
{%- endmacro %}
