with

delta as (
    select * from {{ ref('cdp_batch_records_delta') }}
),

orders as (
    select
        order_id,
        record_hash
    from {{ ref('cdp_batch_records') }}
    where mode = 'insert'
),

held as (
    select * from {{ ref('int_orders_held_by_cdp') }}
),

raw_versions as (
    -- The latest row version each raw table holds: a nightly replication
    -- that ran brings versions written since the last ship.
    select max(updated_at) as updated_at from {{ source('raw', 'orders') }}
    union all
    select max(updated_at) as updated_at from {{ source('raw', 'order_lines') }}
    union all
    select max(updated_at) as updated_at from {{ source('raw', 'customers') }}
),

latest_raw as (
    select {{ to_utc_millis('max(updated_at)') }} as raw_updated_at
    from raw_versions
),

last_ship as (
    select max(shipped_at) as last_shipped_at
    from {{ ref('stg_cdp_state__shipped_orders') }}
),

unchanged as (
    select count(*) as order_count
    from orders
    inner join held
        on orders.order_id = held.order_id
    where orders.record_hash = held.held_record_hash
),

rejected_unchanged as (
    select count(*) as order_count
    from orders
    inner join held
        on orders.order_id = held.order_id
    where
        held.last_outcome = 'rejected'
        and orders.record_hash = held.last_record_hash
),

changes as (
    select
        count(*) filter (where change = 'new') as new_orders,
        count(*) filter (where change = 'changed') as changed_orders,
        count(*) filter (where change = 'retry') as retried_orders,
        count(*) filter (where change = 'delete') as deleted_orders,
        count(*) filter (where change = 'moved') as moved_orders,
        count(*) as records
    from delta
),

final as (
    select
        changes.new_orders,
        changes.changed_orders,
        unchanged.order_count as unchanged_orders,
        changes.retried_orders,
        changes.deleted_orders,
        changes.moved_orders,
        rejected_unchanged.order_count as rejected_unchanged_orders,
        changes.records,
        latest_raw.raw_updated_at,
        last_ship.last_shipped_at,
        {{ build_id() }} as build_id
    from changes
    cross join unchanged
    cross join rejected_unchanged
    cross join latest_raw
    cross join last_ship
)

select * from final
