{#- Ephemeral: its CTEs are built inside cdp_batch_records, a slice of orders
    at a time on DuckDB, so the order JSON is stored once, as the batch line. -#}
{{ config(materialized='ephemeral') }}

with

orders as (
    select * from {{ ref('int_orders_mapped') }}
    where
        {{ build_slice_filter('order_id') }}
        and {{ touched_orders_filter('order_id', built_inside='cdp_batch_records') }}
),

classified as (
    select order_id from {{ ref('int_orders_classified') }}
    where destination = 'shipped' and {{ touched_orders_filter('order_id', built_inside='cdp_batch_records') }}
),

contacts as (
    -- The slice's customers only: the join then holds a slice, not every contact.
    select * from {{ ref('int_customer_contacts_built') }}
    where customer_id in (select orders.customer_id from orders)
),

consumers as (
    select
        order_id,
        {{ json_array_agg(
            'consumer_json',
            'passenger_index, last_name_as_stored asc nulls last, '
            ~ 'first_name_as_stored asc nulls last, title_as_stored asc nulls last'
        ) }} as consumers_json
    from {{ ref('int_order_consumers_built') }}
    where
        {{ build_slice_filter('order_id') }}
        and {{ touched_orders_filter('order_id', built_inside='cdp_batch_records') }}
    group by order_id
),

items as (
    select
        order_id,
        {{ json_array_agg('item_json', 'order_line_id') }} as order_items_json
    from {{ ref('int_order_items_built') }}
    where
        {{ build_slice_filter('order_id') }}
        and {{ touched_orders_filter('order_id', built_inside='cdp_batch_records') }}
    group by order_id
),

extensions as (
    select * from {{ ref('int_order_extensions_built') }}
    where
        {{ build_slice_filter('order_id') }}
        and {{ touched_orders_filter('order_id', built_inside='cdp_batch_records') }}
),

built as (
    select
        orders.order_id,
        orders.reference_id,
        orders.ordered_at,
        {{ json_object([
            ('referenceId', json_string('orders.reference_id')),
            ('channel', json_string('orders.channel')),
            ('pointOfSale', json_string('orders.point_of_sale')),
            ('status', json_string('orders.order_status')),
            ('orderedAt', json_formatted_text(format_utc_millis('orders.ordered_at'))),
            ('currencyCode', json_string('orders.currency_code')),
            ('price', json_money('orders.price')),
            ('paymentType', json_string('orders.payment_type')),
            ('cardType', json_string('orders.card_type')),
            ('contact', 'contacts.contact_json'),
            ('consumers', 'consumers.consumers_json'),
            ('orderItems', 'items.order_items_json'),
            ('extensions', 'extensions.extensions_json'),
        ]) }} as value_json
    from orders
    inner join classified
        on orders.order_id = classified.order_id
    inner join items
        on orders.order_id = items.order_id
    inner join contacts
        on orders.customer_id = contacts.customer_id
    left join consumers
        on orders.order_id = consumers.order_id
    left join extensions
        on orders.order_id = extensions.order_id
)

select * from built
