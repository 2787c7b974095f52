{#- Fails on empty or all-space text: CDP takes an empty string for a value,
    so an attribute with nothing to say must be left out instead. -#}
{% test not_empty_string(model, column_name) %}

select {{ column_name }} as empty_value
from {{ model }}
where {{ trim_spaces(column_name) }} = ''

{% endtest %}
