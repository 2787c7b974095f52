{#- Aggregates JSON values into a JSON array in a fixed order (ascending,
    nulls last); null when the group has no element, so json_object leaves an
    empty array out. -#}
{% macro json_array_agg(element, order_by) -%}
    '[' || {{ ordered_string_agg(element, "','", order_by) }} || ']'
{%- endmacro %}
