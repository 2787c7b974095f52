{#- Aggregates JSON values into a JSON array in a fixed order; null when the
    group has no element, so json_object leaves an empty array out. -#}
{% macro json_array_agg(element, order_by) -%}
    {{ return(adapter.dispatch('json_array_agg', 'cdp_orders')(element, order_by)) }}
{%- endmacro %}

{% macro default__json_array_agg(element, order_by) -%}
    '[' || string_agg({{ element }}, ',' order by {{ order_by }}) || ']'
{%- endmacro %}

{% macro spark__json_array_agg(element, order_by) -%}
    '[' || {{ ordered_string_agg(element, "','", order_by) }} || ']'
{%- endmacro %}
