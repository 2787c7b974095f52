{%- set window_hours = var('reference_window_hours') -%}

with

full_export as (
    -- The keys of every record, without its line: this CTE is read three
    -- times, and DuckDB materialises a CTE read more than once (the lines,
    -- 2.2 GB at 1M orders, are joined once, in `inserts`).
    select
        mode,
        order_id,
        reference_id,
        ordered_at,
        record_hash
    from {{ ref('cdp_batch_records') }}
),

held as (
    select * from {{ ref('int_orders_held_by_cdp') }}
),

exclusions as (
    select order_id from {{ ref('cdp_order_exclusions') }}
),

insert_keys as (
    -- Orders whose record CDP does not hold as it is now: new, changed, or
    -- changed since CDP rejected it. Unchanged orders are not sent again,
    -- nor is a record CDP rejected as it still is (it would be rejected again).
    select
        full_export.order_id,
        full_export.reference_id,
        full_export.ordered_at,
        full_export.record_hash,
        case
            when held.order_id is null then 'new'
            when held.last_outcome = 'rejected' then 'retry'
            when held.held_record_hash is null then 'new'
            else 'changed'
        end as change
    from full_export
    left join held
        on full_export.order_id = held.order_id
    where
        full_export.mode = 'insert'
        and held.held_record_hash is distinct from full_export.record_hash
        and not {{ rejected_as_it_is('held', 'full_export') }}
),

moved as (
    -- CDP holds the order under another referenceId, or more than the window
    -- from its orderedAt: the insert would make a second order, so what CDP
    -- holds is deleted first.
    select
        insert_keys.order_id,
        held.held_reference_id as reference_id,
        held.held_ordered_at as ordered_at,
        'moved' as change
    from insert_keys
    inner join held
        on insert_keys.order_id = held.order_id
    where
        held.held_record_hash is not null
        and (
            held.held_reference_id <> insert_keys.reference_id
            or insert_keys.ordered_at > {{ dbt.dateadd('hour', window_hours, 'held.held_ordered_at') }}
            or insert_keys.ordered_at < {{ dbt.dateadd('hour', -window_hours, 'held.held_ordered_at') }}
        )
),

erased as (
    -- Erased orders, once: not when CDP already applied a delete of them.
    select
        full_export.order_id,
        full_export.reference_id,
        full_export.ordered_at,
        case
            when held.last_mode = 'delete' and held.last_outcome = 'rejected' then 'retry'
            else 'delete'
        end as change
    from full_export
    left join held
        on full_export.order_id = held.order_id
    where
        full_export.mode = 'delete'
        and not coalesce(held.is_deleted_in_cdp, false)
        and not {{ rejected_as_it_is('held', 'full_export') }}
),

retired as (
    -- A shipped order that became a test order leaves CDP.
    select
        held.order_id,
        held.held_reference_id as reference_id,
        held.held_ordered_at as ordered_at,
        'delete' as change
    from held
    inner join exclusions
        on held.order_id = exclusions.order_id
    where held.held_record_hash is not null
),

deletes as (
    select * from moved
    union all
    select * from erased
    union all
    select * from retired
),

delete_values as (
    select
        *,
        {{ order_delete_value('reference_id', 'ordered_at') }} as value_json
    from deletes
),

delete_digests as (
    select
        *,
        {{ batch_record_digest("'delete'", 'value_json') }} as ref_digest
    from delete_values
),

delete_records as (
    select
        order_id,
        reference_id,
        ordered_at,
        md5(value_json) as record_hash,
        {{ uuid_from_sha1_hex('ref_digest') }} as ref,
        value_json,
        change
    from delete_digests
),

inserts as (
    select
        insert_keys.*,
        full_lines.ref,
        full_lines.record
    from insert_keys
    inner join {{ ref('cdp_batch_records') }} as full_lines
        on
            full_lines.mode = 'insert'
            and insert_keys.order_id = full_lines.order_id
),

records as (
    select
        'delete' as mode,
        order_id,
        reference_id,
        ordered_at,
        record_hash,
        ref,
        {{ batch_record_line('ref', "'delete'", 'value_json') }} as record,
        change
    from delete_records
    union all
    select
        'insert' as mode,
        order_id,
        reference_id,
        ordered_at,
        record_hash,
        ref,
        record,
        change
    from inserts
),

file_order as (
    {{ batch_file_order('delete_records', 'insert_keys') }}
),

final as (
    select
        file_order.seq,
        records.ref,
        'order' as schema,
        records.mode,
        records.order_id,
        records.reference_id,
        records.ordered_at,
        records.record_hash,
        records.record,
        records.change
    from records
    inner join file_order
        on
            records.mode = file_order.mode
            and records.order_id = file_order.order_id
)

select * from final
order by seq
