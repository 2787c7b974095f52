-- Nothing is dropped silently: every current order is shipped, deleted,
-- excluded or quarantined, and no order is in two of them. Returns each
-- order that is in none or in more than one, with where it was found.

with

current_orders as (
    select order_id from {{ ref('int_orders_mapped') }}
),

placements as (
    select
        order_id,
        'shipped' as place
    from {{ ref('cdp_orders') }}
    union all
    select
        order_id,
        'deleted' as place
    from {{ ref('cdp_order_deletes') }}
    union all
    select
        order_id,
        'excluded' as place
    from {{ ref('cdp_order_exclusions') }}
    union all
    select
        order_id,
        'quarantined' as place
    from {{ ref('cdp_order_quarantine') }}
),

placed as (
    select
        order_id,
        count(*) as place_count,
        {{ ordered_string_agg('place', "','", 'place') }} as places
    from placements
    group by order_id
),

final as (
    select
        coalesce(current_orders.order_id, placed.order_id) as order_id,
        coalesce(placed.place_count, 0) as place_count,
        placed.places
    from current_orders
    full outer join placed
        on current_orders.order_id = placed.order_id
    where
        current_orders.order_id is null
        or placed.order_id is null
        or placed.place_count > 1
)

select * from final
