with

classified as (
    select * from {{ ref('int_orders_classified') }}
    where destination = 'deleted'
),

orders as (
    select * from {{ ref('int_orders_mapped') }}
),

held as (
    select * from {{ ref('int_orders_held_by_cdp') }}
),

targeted as (
    -- Delete what CDP holds when the loader shipped the order; knowing only
    -- the warehouse, the erased order's current version.
    select
        classified.order_id,
        coalesce(held.held_reference_id, classified.reference_id) as reference_id,
        coalesce(held.held_ordered_at, classified.ordered_at) as ordered_at,
        held.held_reference_id is not null as deletes_shipped_version,
        orders.deleted_at
    from classified
    inner join orders
        on classified.order_id = orders.order_id
    left join held
        on classified.order_id = held.order_id
),

final as (
    select
        order_id,
        reference_id,
        ordered_at,
        deletes_shipped_version,
        deleted_at,
        {{ order_delete_value('reference_id', 'ordered_at') }} as value_json
    from targeted
)

select * from final
