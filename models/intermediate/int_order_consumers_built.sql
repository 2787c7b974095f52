{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook=["{{ delete_touched_rows() }}", before_begin("{{ begin_long_text_compression() }}")],
    post_hook=after_commit("{{ end_long_text_compression() }}"),
    slices_from='int_orders_mapped',
) }}
-- The slices are cut from the orders:
-- depends_on: {{ ref('int_orders_mapped') }}

with

passengers as (
    select * from {{ ref('stg_raw__order_passengers') }}
    -- A passenger with neither a first nor a last name is no consumer.
    where
        (first_name is not null or last_name is not null)
        and {{ build_slice_filter('order_id') }}
        and {{ touched_orders_filter('order_id') }}
),

items as (
    select
        order_id,
        order_line_id,
        item_reference_id,
        passenger_index
    from {{ ref('int_order_lines_mapped') }}
    where {{ build_slice_filter('order_id') }} and {{ touched_orders_filter('order_id') }}
),

contacts as (
    select
        customer_id,
        identifiers_json
    from {{ ref('int_customer_contacts_built') }}
),

titles as (
    select * from {{ ref('cdp_titles') }}
),

consumer_indexes as (
    select distinct
        order_id,
        passenger_index
    from passengers
),

consumed_items as (
    select
        consumer_indexes.order_id,
        consumer_indexes.passenger_index,
        count(*) as item_count,
        {{ json_array_agg(
            json_object([('referenceId', json_string('items.item_reference_id'))]),
            'items.order_line_id'
        ) }} as order_items_json
    from consumer_indexes
    inner join items
        on
            consumer_indexes.order_id = items.order_id
            and consumer_indexes.passenger_index = items.passenger_index
    group by consumer_indexes.order_id, consumer_indexes.passenger_index
),

consumers as (
    select
        passengers.order_id,
        passengers.passenger_index,
        titles.title,
        passengers.first_name,
        passengers.last_name,
        passengers.customer_id,
        passengers.last_name_as_stored,
        passengers.first_name_as_stored,
        passengers.title_as_stored,
        coalesce(consumed_items.item_count, 0) as item_count,
        {{ json_object([
            ('title', json_string('titles.title')),
            ('firstName', json_string('passengers.first_name')),
            ('lastName', json_string('passengers.last_name')),
            ('identifiers', 'contacts.identifiers_json'),
            ('orderItems', 'consumed_items.order_items_json'),
        ]) }} as consumer_json
    from passengers
    left join titles
        on {{ title_candidate('passengers.title') }} = titles.title
    left join contacts
        on passengers.customer_id = contacts.customer_id
    left join consumed_items
        on
            passengers.order_id = consumed_items.order_id
            and passengers.passenger_index = consumed_items.passenger_index
)

select * from consumers
