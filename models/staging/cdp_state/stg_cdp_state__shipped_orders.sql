with

source as (
    select * from {{ source('cdp_state', 'cdp_shipped_orders') }}
),

renamed as (
    select
        order_id,
        reference_id,
        ordered_at,
        record_hash,
        mode,
        outcome,
        error_code,
        batch_ref,
        record_ref,
        batch_file,
        shipped_at,
        -- CDP applied it: an insert it holds, or a delete after which it holds nothing.
        outcome in ('success', 'already_absent') as is_applied
    from source
)

select * from renamed
