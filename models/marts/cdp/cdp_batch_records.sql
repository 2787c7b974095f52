with

deletes as (
    select
        order_id,
        reference_id,
        ordered_at,
        value_json
    from {{ ref('cdp_order_deletes') }}
),

orders as (
    select
        order_id,
        reference_id,
        ordered_at,
        value_json
    from {{ ref('cdp_orders') }}
),

records as (
    select
        'delete' as mode,
        *
    from deletes
    union all
    select
        'insert' as mode,
        *
    from orders
),

digested as (
    select
        *,
        {{ batch_record_digest('mode', 'value_json') }} as ref_digest,
        md5(value_json) as record_hash
    from records
),

enveloped as (
    select
        -- File order: deletes first, then inserts, each by order_id.
        -- bigint as the contract says: Spark's row_number is an int.
        cast(row_number() over (
            order by case mode when 'delete' then 0 else 1 end, order_id
        ) as bigint) as seq,
        {{ uuid_from_sha1_hex('ref_digest') }} as ref,
        'order' as schema,
        mode,
        order_id,
        reference_id,
        ordered_at,
        record_hash,
        value_json
    from digested
),

final as (
    select
        seq,
        ref,
        schema,
        mode,
        order_id,
        reference_id,
        ordered_at,
        record_hash,
        {{ batch_record_line('ref', 'mode', 'value_json') }} as record
    from enveloped
)

-- Stored in file order, so that the loader streams it without a sort.
select * from final
order by seq
