{%- set window_hours = var('reference_window_hours') -%}

with

orders as (
    -- Every current order but test orders takes part, deleted ones too: a
    -- CDP order delete matches by the same window and would erase the wrong
    -- order. An order without a reference or an orderedAt takes no part.
    select
        order_id,
        reference_id,
        ordered_at
    from {{ ref('int_orders_mapped') }}
    where
        not is_test
        and reference_id is not null
        and ordered_at is not null
),

neighbours as (
    -- If any other order lies within the window, the nearest one in time
    -- does, and the nearest is the previous or the next by orderedAt.
    select
        order_id,
        reference_id,
        ordered_at,
        lag(ordered_at) over by_reference as previous_ordered_at,
        lead(ordered_at) over by_reference as next_ordered_at
    from orders
    window by_reference as (partition by reference_id order by ordered_at, order_id)
),

collisions as (
    select
        order_id,
        reference_id,
        ordered_at
    from neighbours
    where
        ordered_at <= {{ dbt.dateadd('hour', window_hours, 'previous_ordered_at') }}
        or next_ordered_at <= {{ dbt.dateadd('hour', window_hours, 'ordered_at') }}
)

select * from collisions
