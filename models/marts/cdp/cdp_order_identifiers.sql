with

orders as (
    select
        order_id,
        customer_id
    from {{ ref('cdp_orders') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers_deduplicated') }}
),

final as (
    select
        orders.order_id,
        identifiers.customer_id,
        identifiers.provider,
        identifiers.external_id as identifier_id,
        identifiers.expires_at
    from orders
    inner join identifiers
        on orders.customer_id = identifiers.customer_id
)

select * from final
