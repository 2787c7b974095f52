with

items as (
    select
        order_id,
        order_line_id,
        reference_id
    from {{ ref('cdp_order_items') }}
    where type = 'FLIGHT'
),

segments as (
    select * from {{ ref('int_flight_segments_normalised') }}
),

final as (
    select
        items.order_id,
        items.order_line_id,
        items.reference_id as item_reference_id,
        segments.segment_id,
        segments.segment_number,
        segments.origin,
        segments.destination,
        segments.departure_date_time,
        segments.arrival_date_time,
        segments.flight_number,
        segments.fare_class,
        segments.fare_family,
        segments.carrier,
        segments.origin_destination
    from segments
    inner join items
        on segments.order_line_id = items.order_line_id
)

select * from final
