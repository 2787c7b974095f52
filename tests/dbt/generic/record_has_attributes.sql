{#- Fails on every batch record of `mode` whose value lacks one of the
    attributes CDP requires in that mode (spec §3, §9). -#}
{% test record_has_attributes(model, column_name, mode, attributes) %}

select
    {{ column_name }} as record,
    '{{ mode }}' as mode
from {{ model }}
where mode = '{{ mode }}'
    and (
        {%- for attribute in attributes %}
        {{ json_value_text(column_name, 'value.' ~ attribute) }} is null
        {%- if not loop.last %} or{% endif %}
        {%- endfor %}
    )

{% endtest %}
