with

classified as (
    select * from {{ ref('int_orders_classified') }}
    where destination = 'quarantined'
),

final as (
    select
        order_id,
        booking_reference,
        reference_id,
        quarantine_reason as reason,
        quarantine_reasons as reasons,
        cast({{ dbt.current_timestamp() }} as timestamp) as seen_at
    from classified
)

select * from final
