{#- Fails with one row per value of the column (and its row count) that is
    not in `field` of the seed `to`, optionally of the seed rows matching
    `to_where`; with ignore_case, as the seed lookups match (trimmed, ASCII
    lower case). Nulls pass: not_null says whether they may exist. -#}
{% test accepted_values_from_seed(model, column_name, to, field, to_where=none, ignore_case=false) %}

{%- set seed_value = lookup_key(field) if ignore_case else field -%}

with

accepted as (
    select {{ seed_value }} as accepted_value
    from {{ to }}
    {% if to_where %}where {{ to_where }}{% endif %}
)

select
    {{ column_name }} as unaccepted_value,
    count(*) as row_count
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (select accepted_value from accepted where accepted_value is not null)
group by {{ column_name }}

{% endtest %}
