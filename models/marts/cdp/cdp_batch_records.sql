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
    -- The rows of cdp_orders, with the JSON cdp_orders does not copy.
    select
        order_id,
        reference_id,
        ordered_at,
        value_json
    from {{ ref('int_order_values_built') }}
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

file_order as (
    {{ batch_file_order('deletes', 'orders') }}
),

enveloped as (
    -- File order: deletes first, then inserts, each by order_id.
    select
        file_order.seq,
        {{ uuid_from_sha1_hex('digested.ref_digest') }} as ref,
        'order' as schema,
        digested.mode,
        digested.order_id,
        digested.reference_id,
        digested.ordered_at,
        digested.record_hash,
        digested.value_json
    from digested
    inner join file_order
        on
            digested.mode = file_order.mode
            and digested.order_id = file_order.order_id
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
