{#- A JSON object from (key, JSON value) pairs, keys in the order given; a pair
    whose value is null is left out ('"k":' || null is null, and concat_ws
    skips nulls). Keys are literals of this project, never data. -#}
{% macro json_object(pairs) -%}
    '{' || concat_ws(','
    {%- for key, value in pairs %},
        '"{{ key }}":' || ({{ value }})
    {%- endfor %}
    ) || '}'
{%- endmacro %}
