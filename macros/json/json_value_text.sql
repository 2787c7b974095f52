{#- The text of a JSON document's attribute at a dotted path ('value.price'),
    null when absent. For tests and analysts; the mart builds JSON, it never
    parses it. -#}
{% macro json_value_text(document, path) -%}
    {{ return(adapter.dispatch('json_value_text', 'cdp_orders')(document, path)) }}
{%- endmacro %}

{% macro duckdb__json_value_text(document, path) -%}
    json_extract_string({{ document }}, '$.{{ path }}')
{%- endmacro %}

{% macro postgres__json_value_text(document, path) -%}
    (cast({{ document }} as json) #>> '{ {{- path.split('.') | join(',') -}} }')
{%- endmacro %}

{% macro spark__json_value_text(document, path) -%}
    get_json_object({{ document }}, '$.{{ path }}')
{%- endmacro %}

{#- True when the document lacks any of the dotted paths (or holds null
    there). DuckDB reads every path from one parse of the document; ten
    json_extract_string calls would parse it ten times. -#}
{% macro json_lacks_any(document, paths) -%}
    {{ return(adapter.dispatch('json_lacks_any', 'cdp_orders')(document, paths)) }}
{%- endmacro %}

{% macro duckdb__json_lacks_any(document, paths) -%}
    list_count(json_extract_string({{ document }}, [
        {%- for path in paths %}'$.{{ path }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ])) < {{ paths | length }}
{%- endmacro %}

{% macro postgres__json_lacks_any(document, paths) -%}
    ({% for path in paths %}{{ json_value_text(document, path) }} is null{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{% macro spark__json_lacks_any(document, paths) -%}
    {{ postgres__json_lacks_any(document, paths) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__json_lacks_any(document, paths) -%}
    {{ exceptions.raise_compiler_error('json_lacks_any is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__json_value_text(document, path) -%}
    {{ exceptions.raise_compiler_error('json_value_text is not implemented for ' ~ target.type) }}
{%- endmacro %}
