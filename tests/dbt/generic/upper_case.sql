{#- Fails on every value with an ASCII lower-case letter: CDP's codes
    (currencies, airports, carriers, languages) are upper case. -#}
{% test upper_case(model, column_name) %}

select {{ column_name }} as lower_case_value
from {{ model }}
where {{ column_name }} <> {{ ascii_upper(column_name) }}

{% endtest %}
