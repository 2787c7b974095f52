with

passengers as (
    select * from {{ ref('stg_raw__order_passengers') }}
    -- A passenger with neither a first nor a last name is no consumer.
    where first_name is not null or last_name is not null
),

items as (
    select order_id, order_line_id, item_reference_id, passenger_index
    from {{ ref('int_order_lines_mapped') }}
),

contacts as (
    select customer_id, identifiers_json from {{ ref('int_customer_contacts_built') }}
),

titles as (
    select * from {{ ref('cdp_titles') }}
),

consumed_items as (
    select
        passengers.order_id,
        passengers.passenger_index,
        {{ json_array_agg(
            json_object([('referenceId', json_string('items.item_reference_id'))]),
            'items.order_line_id'
        ) }} as order_items_json
    from (select distinct order_id, passenger_index from passengers) as passengers
    inner join items
        on passengers.order_id = items.order_id
        and passengers.passenger_index = items.passenger_index
    group by passengers.order_id, passengers.passenger_index
),

consumers as (
    select
        passengers.order_id,
        passengers.passenger_index,
        passengers.last_name_as_stored,
        passengers.first_name_as_stored,
        passengers.title_as_stored,
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
        on passengers.order_id = consumed_items.order_id
        and passengers.passenger_index = consumed_items.passenger_index
),

aggregated as (
    select
        order_id,
        count(*) as consumer_count,
        {{ json_array_agg(
            'consumer_json',
            'passenger_index, last_name_as_stored asc nulls last, first_name_as_stored asc nulls last, title_as_stored asc nulls last'
        ) }} as consumers_json
    from consumers
    group by order_id
)

select * from aggregated
