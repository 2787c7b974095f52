{#- Fails on every value longer than `length` characters (code points). -#}
{% test max_length(model, column_name, length) %}

select {{ column_name }} as too_long_value
from {{ model }}
where length({{ column_name }}) > {{ length }}

{% endtest %}
