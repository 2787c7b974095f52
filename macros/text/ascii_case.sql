{#- Case changes touch A-Z and a-z only (raw_warehouse.md): every other
    character, 'É' included, stays as it is. -#}
{% macro ascii_upper(expression) -%}
    translate({{ expression }}, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
{%- endmacro %}

{% macro ascii_lower(expression) -%}
    translate({{ expression }}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
{%- endmacro %}

{#- The key a seed lookup matches on: trimmed and ASCII lower case, nothing
    else ('car hire' is not 'car_hire'); empty text is no key. -#}
{% macro lookup_key(expression) -%}
    nullif({{ ascii_lower(trim_spaces(expression)) }}, '')
{%- endmacro %}
