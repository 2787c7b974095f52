{#- A JSON string literal in the canonical bytes of raw_warehouse.md: only '"',
    '\' and U+0000-U+001F are escaped (short forms where JSON has them, else
    \u00xx in lower-case hex); everything else, U+2028 included, is itself.
    Null stays null, so json_object leaves the key out. -#}
{% macro json_string(expression) -%}
    {{ return(adapter.dispatch('json_string', 'cdp_orders')(expression)) }}
{%- endmacro %}

{#- DuckDB's to_json writes a string with exactly these escapes except one:
    its \u00XX hex is upper case. So its text is taken whenever it holds no
    '\u00' (no such escape, nor a data backslash before 'u00'), which is ~5x
    faster than escaping in SQL; the rest are escaped one character at a time. -#}
{% macro duckdb__json_string(expression) -%}
    case
        when {{ expression }} is null then null
        when not contains(to_json(cast({{ expression }} as varchar))::varchar, '\u00')
            then to_json(cast({{ expression }} as varchar))::varchar
        else '"' || array_to_string(
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
    end
{%- endmacro %}

{#- PostgreSQL text cannot hold U+0000, so U+0001-U+001F are the control
    characters to escape: one replace each, after '\' and '"'. -#}
{% macro postgres__json_string(expression) -%}
    {%- set short_forms = {8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r'} -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} ~ '[\x01-\x1f]' then
            '"' || {% for code in range(1, 32) %}replace({% endfor -%}
            replace(replace({{ expression }}, '\', '\\'), '"', '\"')
            {%- for code in range(1, 32) %}, chr({{ code }}), '{{ short_forms.get(code, '\\u00' ~ ('%02x' | format(code))) }}'){% endfor %}
            || '"'
        else '"' || replace(replace({{ expression }}, '\', '\\'), '"', '\"') || '"'
    end
{%- endmacro %}

{#- Spark: one replace per control character, U+0000 included; backslash
    and quote as chr(92) and chr(34), which read the same whatever the
    parser's string escaping. -#}
{% macro spark__json_string(expression) -%}
    {%- set short_forms = {8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r'} -%}
    case
        when {{ expression }} is null then null
        when {{ expression }} rlike '[\x00-\x1f]' then
            chr(34) || {% for code in range(0, 32) %}replace({% endfor -%}
            replace(replace({{ expression }}, chr(92), chr(92) || chr(92)), chr(34), chr(92) || chr(34))
            {%- for code in range(0, 32) %}, chr({{ code }}), chr(92) || '{{ short_forms.get(code, 'u00' ~ ('%02x' | format(code))) }}'){% endfor %}
            || chr(34)
        else chr(34) || replace(replace({{ expression }}, chr(92), chr(92) || chr(92)), chr(34), chr(92) || chr(34)) || chr(34)
    end
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__json_string(expression) -%}
    {{ exceptions.raise_compiler_error('json_string is not implemented for ' ~ target.type) }}
{%- endmacro %}
