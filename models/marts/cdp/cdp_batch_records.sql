{{ config(
    materialized=('sliced_table' if target.type == 'duckdb' else 'table'),
    slices_from='int_orders_mapped',
) }}
-- The slices are cut from the orders:
-- depends_on: {{ ref('int_orders_mapped') }}

with

deletes as (
    -- Deletes come first in file order, so all of them go in the first slice.
    select
        order_id,
        reference_id,
        ordered_at,
        value_json
    from {{ ref('cdp_order_deletes') }}
    where {{ build_slice_is_first() }}
),

orders as (
    -- The order JSON of the slice's orders, built here and stored only as the line.
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
    select * from {{ ref('int_batch_records_numbered') }}
),

enveloped as (
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

-- Stored in file order, so that the loader streams it without a sort: each
-- slice is sorted, and the slices are order_id ranges appended in order.
select * from final
order by seq
