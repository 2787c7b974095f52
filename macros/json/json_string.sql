{#- A JSON string literal in the canonical bytes of raw_warehouse.md: only '"',
    '\' and U+0000-U+001F are escaped (short forms where JSON has them, else
    \u00xx in lower-case hex); everything else, U+2028 included, is itself.
    Null stays null, so json_object leaves the key out. -#}
{% macro json_string(expression) -%}
    {{ return(adapter.dispatch('json_string', 'cdp_orders')(expression)) }}
{%- endmacro %}

{% macro default__json_string(expression) -%}
    {%- set short_forms = {8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r'} -%}
    {%- set escaped = "replace(replace(" ~ expression ~ ", '\\', '\\\\'), '\"', '\\\"')" -%}
    {%- set fully_escaped = namespace(sql=escaped) -%}
    {%- for code in range(1, 32) -%}
        {%- set fully_escaped.sql = "replace(" ~ fully_escaped.sql ~ ", chr(" ~ code ~ "), '"
            ~ short_forms.get(code, "\\u%04x" % code) ~ "')" -%}
    {%- endfor -%}
    case
        when {{ expression }} is null then null
        -- Control characters are rare: only those strings pay for the long chain.
        when regexp_matches({{ expression }}, '[\x00-\x1f]') then '"' || {{ fully_escaped.sql }} || '"'
        else '"' || {{ escaped }} || '"'
    end
{%- endmacro %}
