with

source as (
    select * from {{ source('raw', 'flight_segments') }}
),

renamed as (
    select
        nullif({{ trim_spaces('segment_id') }}, '') as segment_id,
        -- CDP orders segments by segment_number, then segment_id as stored.
        segment_id as segment_id_as_stored,
        order_line_id,
        segment_number,
        nullif({{ ascii_upper(trim_spaces('origin')) }}, '') as origin,
        nullif({{ ascii_upper(trim_spaces('destination')) }}, '') as destination,
        {{ trim_spaces('departure_at') }} as departure_at_text,
        {{ trim_spaces('arrival_at') }} as arrival_at_text,
        nullif({{ ascii_upper(trim_spaces('carrier')) }}, '') as carrier,
        nullif({{ trim_spaces('flight_number') }}, '') as flight_number_text,
        nullif({{ trim_spaces('fare_class') }}, '') as fare_class,
        nullif({{ trim_spaces('fare_family') }}, '') as fare_family
    from source
)

select * from renamed
