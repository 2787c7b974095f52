with

current_orders as (
    select count(*) as order_count from {{ ref('int_orders_mapped') }}
),

shipped as (
    select count(*) as order_count from {{ ref('cdp_orders') }}
),

deleted as (
    select count(*) as order_count from {{ ref('cdp_order_deletes') }}
),

excluded as (
    select count(*) as order_count from {{ ref('cdp_order_exclusions') }}
),

quarantined as (
    select count(*) as order_count from {{ ref('cdp_order_quarantine') }}
),

final as (
    select
        {{ build_started_at() }} as reconciled_at,
        current_orders.order_count as current_orders,
        shipped.order_count as shipped_orders,
        deleted.order_count as deleted_orders,
        excluded.order_count as excluded_orders,
        quarantined.order_count as quarantined_orders,
        current_orders.order_count
        - shipped.order_count
        - deleted.order_count
        - excluded.order_count
        - quarantined.order_count as unaccounted_orders,
        {{ build_id() }} as build_id
    from current_orders
    cross join shipped
    cross join deleted
    cross join excluded
    cross join quarantined
)

select * from final
