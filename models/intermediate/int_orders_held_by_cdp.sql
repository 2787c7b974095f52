with

shipments as (
    select * from {{ ref('stg_cdp_state__shipped_orders') }}
),

ranked as (
    select
        *,
        -- Within one moment a delete comes before the insert that follows it.
        row_number() over (
            partition by order_id
            order by shipped_at desc, mode = 'insert' desc, batch_ref desc, record_ref desc
        ) as attempt_rank,
        row_number() over (
            partition by order_id, is_applied
            order by shipped_at desc, mode = 'insert' desc, batch_ref desc, record_ref desc
        ) as applied_rank
    from shipments
),

last_attempts as (
    select * from ranked
    where attempt_rank = 1
),

last_applied as (
    select * from ranked
    where is_applied and applied_rank = 1
),

final as (
    select
        last_attempts.order_id,
        -- What CDP holds now: the last record it applied, when that was an insert.
        case when last_applied.mode = 'insert' then last_applied.reference_id end
            as held_reference_id,
        case when last_applied.mode = 'insert' then last_applied.ordered_at end
            as held_ordered_at,
        case when last_applied.mode = 'insert' then last_applied.record_hash end
            as held_record_hash,
        last_applied.mode = 'delete' as is_deleted_in_cdp,
        last_attempts.mode as last_mode,
        last_attempts.outcome as last_outcome,
        last_attempts.record_hash as last_record_hash,
        last_attempts.shipped_at as last_shipped_at
    from last_attempts
    left join last_applied
        on last_attempts.order_id = last_applied.order_id
)

select * from final
