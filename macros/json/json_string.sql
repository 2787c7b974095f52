{#- A JSON string literal in the canonical bytes of raw_warehouse.md: only '"',
    '\' and U+0000-U+001F are escaped (short forms where JSON has them, else
    \u00xx in lower-case hex); everything else, U+2028 included, is itself.
    Null stays null, so json_object leaves the key out. -#}
{% macro json_string(expression) -%}
    {{ return(adapter.dispatch('json_string', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro default__json_string(expression) -%}
    case
        when {{ expression }} is null then null
        -- Control characters are rare: only those strings are escaped one
        -- character at a time.
        when regexp_matches({{ expression }}, '[\x00-\x1f]') then
            '"' || array_to_string(
                list_transform(
                    string_split({{ expression }}, ''),
                    character -> case
                        when character = '"' then '\"'
                        when character = '\' then '\\'
                        when character = chr(8) then '\b'
                        when character = chr(9) then '\t'
                        when character = chr(10) then '\n'
                        when character = chr(12) then '\f'
                        when character = chr(13) then '\r'
                        when unicode(character) < 32
                            then '\u00' || lpad(lower(hex(unicode(character))), 2, '0')
                        else character
                    end
                ),
                ''
            ) || '"'
        else '"' || replace(replace({{ expression }}, '\', '\\'), '"', '\"') || '"'
    end
{%- endmacro %}
