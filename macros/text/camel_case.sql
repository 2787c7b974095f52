{#- Extension attribute names: split on anything not [A-Za-z0-9], lower-case
    every word, then upper-case the first character of each word after the
    first ('seat 2nd row' -> 'seat2ndRow'). Empty when no word is left. -#}
{% macro camel_case(expression) -%}
    {{ return(adapter.dispatch('camel_case', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro default__camel_case(expression) -%}
    array_to_string(
        list_transform(
            list_filter(string_split_regex({{ expression }}, '[^A-Za-z0-9]+'), word -> word <> ''),
            (word, position) -> case
                when position = 1 then {{ ascii_lower('word') }}
                else {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
            end
        ),
        ''
    )
{%- endmacro %}
