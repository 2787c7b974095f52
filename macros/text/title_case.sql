{#- 'first  class' -> 'First Class': words split on runs of spaces, the first
    character of each upper case, the rest lower case (ASCII only). -#}
{% macro title_case(expression) -%}
    {{ return(adapter.dispatch('title_case', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro duckdb__title_case(expression) -%}
    array_to_string(
        list_transform(
            string_split_regex({{ trim_spaces(expression) }}, ' +'),
            word -> {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
        ),
        ' '
    )
{%- endmacro %}

{% macro postgres__title_case(expression) -%}
    case when {{ expression }} is not null then array_to_string(array(
        select {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
        from unnest(regexp_split_to_array({{ trim_spaces(expression) }}, ' +'))
            with ordinality as split (word, split_position)
        order by split_position
    ), ' ') end
{%- endmacro %}

{% macro spark__title_case(expression) -%}
    array_join(
        transform(
            split({{ trim_spaces(expression) }}, ' +'),
            word -> {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
        ),
        ' '
    )
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__title_case(expression) -%}
    {{ exceptions.raise_compiler_error('title_case is not implemented for ' ~ target.type) }}
{%- endmacro %}
