with

values_built as (
    select * from {{ ref('int_order_values_built') }}
),

orders as (
    select * from {{ ref('int_orders_mapped') }}
),

final as (
    select
        orders.order_id,
        orders.reference_id,
        orders.channel,
        orders.point_of_sale,
        orders.order_status as status,
        orders.ordered_at,
        orders.currency_code,
        orders.price,
        orders.payment_type,
        orders.card_type,
        orders.customer_id,
        values_built.item_count,
        values_built.consumer_count,
        values_built.extension_attributes_sent,
        values_built.extension_attributes_dropped,
        values_built.item_extension_attributes_sent,
        values_built.item_extension_attributes_dropped
    from values_built
    inner join orders
        on values_built.order_id = orders.order_id
)

select * from final
