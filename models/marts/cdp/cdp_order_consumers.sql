with

orders as (
    select order_id from {{ ref('cdp_orders') }}
),

consumers as (
    select * from {{ ref('int_order_consumers_built') }}
),

final as (
    select
        consumers.order_id,
        consumers.passenger_index,
        consumers.title,
        consumers.first_name,
        consumers.last_name,
        consumers.customer_id,
        consumers.item_count
    from consumers
    inner join orders
        on consumers.order_id = orders.order_id
)

select * from final
