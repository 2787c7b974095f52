{#- Extension attribute names: split on anything not [A-Za-z0-9], lower-case
    every word, then upper-case the first character of each word after the
    first ('seat 2nd row' -> 'seat2ndRow'). Empty when no word is left. -#}
{% macro camel_case(expression) -%}
    {{ return(adapter.dispatch('camel_case', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro duckdb__camel_case(expression) -%}
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

{#- PostgreSQL has no list lambdas: the words are a subquery, numbered after
    the empty ones are dropped. -#}
{% macro postgres__camel_case(expression) -%}
    case when {{ expression }} is not null then coalesce((
        select string_agg(
            case
                when word_position = 1 then {{ ascii_lower('word') }}
                else {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
            end,
            '' order by word_position
        )
        from (
            select
                word,
                row_number() over (order by split_position) as word_position
            from unnest(regexp_split_to_array({{ expression }}, '[^A-Za-z0-9]+'))
                with ordinality as split (word, split_position)
            where word <> ''
        ) as words
    ), '') end
{%- endmacro %}

{% macro spark__camel_case(expression) -%}
    array_join(
        transform(
            filter(split({{ expression }}, '[^A-Za-z0-9]+'), word -> word <> ''),
            (word, position) -> case
                when position = 0 then {{ ascii_lower('word') }}
                else {{ ascii_upper('left(word, 1)') }} || {{ ascii_lower('substr(word, 2)') }}
            end
        ),
        ''
    )
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__camel_case(expression) -%}
    {{ exceptions.raise_compiler_error('camel_case is not implemented for ' ~ target.type) }}
{%- endmacro %}
