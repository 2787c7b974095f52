{#- The grain of a model whose key is more than one column: fails on every
    combination of the columns held by more than one row. A null is a value
    here (rows that agree on every column, nulls included, collide), so that
    a key column that may be null cannot hide a duplicate; test the columns
    that must be set with not_null beside it. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(',\n    ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
