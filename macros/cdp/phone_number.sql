{#- A phone number without spaces, dashes, dots and brackets, kept only when
    what is left is an optional '+' and 6-15 digits: never cut. -#}
{% macro phone_number(text) -%}
    nullif(
        {{ regexp_extract_text(
            regexp_replace_all(text, "'[ .()\\[\\]-]'", "''"),
            "'^\\+?[0-9]{6,15}$'"
        ) }},
        ''
    )
{%- endmacro %}
