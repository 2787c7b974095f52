with

classified as (
    select * from {{ ref('int_orders_classified') }}
    where destination = 'excluded'
),

final as (
    select
        order_id,
        booking_reference,
        'test_order' as reason
    from classified
)

select * from final
