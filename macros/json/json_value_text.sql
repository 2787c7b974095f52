{#- The text of a JSON document's attribute at a dotted path ('value.price'),
    null when absent. For tests and analysts; the mart builds JSON, it never
    parses it. -#}
{% macro json_value_text(document, path) -%}
    {{ return(adapter.dispatch('json_value_text', 'cdp_orders')(document, path)) }}
{%- endmacro %}

{% macro default__json_value_text(document, path) -%}
    json_extract_string({{ document }}, '$.{{ path }}')
{%- endmacro %}

{% macro postgres__json_value_text(document, path) -%}
    (cast({{ document }} as json) #>> '{ {{- path.split('.') | join(',') -}} }')
{%- endmacro %}

{% macro spark__json_value_text(document, path) -%}
    get_json_object({{ document }}, '$.{{ path }}')
{%- endmacro %}
