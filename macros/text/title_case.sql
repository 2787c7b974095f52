{#- 'first  class' -> 'First Class': words split on runs of spaces, the first
    character of each upper case, the rest lower case (ASCII only). -#}
{% macro title_case(expression) -%}
    {{ return(adapter.dispatch('title_case', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro default__title_case(expression) -%}
    array_to_string(
        list_transform(
            string_split_regex({{ trim_spaces(expression) }}, ' +'),
            word -> {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
        ),
        ' '
    )
{%- endmacro %}
