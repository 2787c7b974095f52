{#- Fails on every batch record of `mode` whose value lacks one of the
    attributes CDP requires in that mode (spec §3, §9). -#}
{% test record_has_attributes(model, column_name, mode, attributes) %}

{%- set paths = [] -%}
{%- for attribute in attributes -%}
    {%- do paths.append('value.' ~ attribute) -%}
{%- endfor %}

select
    {{ column_name }} as record,
    '{{ mode }}' as mode
from {{ model }}
where mode = '{{ mode }}'
    and {{ json_lacks_any(column_name, paths) }}

{% endtest %}
