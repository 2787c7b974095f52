with

classified as (
    select * from {{ ref('int_orders_classified') }}
    where destination = 'deleted'
),

orders as (
    select * from {{ ref('int_orders_mapped') }}
),

final as (
    select
        classified.order_id,
        classified.reference_id,
        classified.ordered_at,
        orders.deleted_at,
        {{ json_object([
            ('referenceId', json_string('classified.reference_id')),
            ('orderedAt', json_formatted_text(format_utc_millis('classified.ordered_at'))),
        ]) }} as value_json
    from classified
    inner join orders
        on classified.order_id = orders.order_id
)

select * from final
