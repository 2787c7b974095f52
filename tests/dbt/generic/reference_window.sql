{#- Fails on every record that lies within `hours` of the previous record with
    the same referenceId: CDP would take the two for one order (spec §10).
    At most `hours` apart collides, so exactly 24 h fails and 24 h + 1 s
    passes. -#}
{% test reference_window(model, column_name, ordered_at, hours=var('reference_window_hours')) %}

with

records as (
    select
        {{ column_name }} as reference_id,
        {{ ordered_at }} as ordered_at,
        lag({{ ordered_at }}) over (
            partition by {{ column_name }}
            order by {{ ordered_at }}
        ) as previous_ordered_at
    from {{ model }}
    where {{ column_name }} is not null
)

select * from records
where {{ dbt.dateadd('hour', hours, 'previous_ordered_at') }} >= ordered_at

{% endtest %}
