with

classified as (
    select * from {{ ref('int_orders_classified') }}
    where destination = 'quarantined'
),

held as (
    select * from {{ ref('int_orders_held_by_cdp') }}
),

final as (
    select
        classified.order_id,
        classified.booking_reference,
        classified.reference_id,
        classified.quarantine_reason as reason,
        classified.quarantine_reasons as reasons,
        -- A quarantined order is not deleted from CDP: what CDP holds stays.
        coalesce(held.held_record_hash is not null, false) as cdp_holds_older_version,
        {{ build_started_at() }} as seen_at
    from classified
    left join held
        on classified.order_id = held.order_id
)

select * from final
