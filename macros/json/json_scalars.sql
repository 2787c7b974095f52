{#- Money as a JSON number with exactly two decimals: 50.00, -45.00. -#}
{% macro json_money(expression) -%}
    cast(cast({{ expression }} as decimal(18, 2)) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro json_integer(expression) -%}
    cast(cast({{ expression }} as bigint) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro json_boolean(expression) -%}
    case when {{ expression }} then 'true' when not {{ expression }} then 'false' end
{%- endmacro %}

{#- A decimal text matching -?[0-9]+(\.[0-9]+)? written as the exact JSON
    number, never through a binary float: no leading or trailing zeros, no
    exponent, no negative zero ('5.50' -> 5.5, '007' -> 7, '-0.00' -> 0). -#}
{% macro json_decimal_from_text(text) -%}
    {%- set integer_part = "coalesce(nullif(" ~ trim_characters(regexp_extract_text(text, "'^-?([0-9]+)'", 1), "'0'", 'leading') ~ ", ''), '0')" -%}
    {%- set fraction_part = trim_characters(regexp_extract_text(text, "'\\.([0-9]+)$'", 1), "'0'", 'trailing') -%}
    case when {{ regexp_full_match(text, "'-?[0-9]+(\\.[0-9]+)?'") }} then
        case
            when {{ integer_part }} = '0' and {{ fraction_part }} = '' then '0'
            else
                case when {{ text }} like '-%' then '-' else '' end
                || {{ integer_part }}
                || case when {{ fraction_part }} <> '' then '.' || {{ fraction_part }} else '' end
        end
    end
{%- endmacro %}

{#- Text this project formats itself (timestamps, dates) holds nothing JSON
    escapes, so it is quoted without json_string's checks. -#}
{% macro json_formatted_text(expression) -%}
    '"' || {{ expression }} || '"'
{%- endmacro %}
