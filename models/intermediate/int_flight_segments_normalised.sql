{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook=["{{ delete_touched_rows() }}", before_begin("{{ begin_long_text_compression() }}")],
    post_hook=after_commit("{{ end_long_text_compression() }}"),
) }}

with

segments as (
    select * from {{ ref('stg_raw__flight_segments') }}
),

flight_items as (
    -- Segments are sent on FLIGHT items only; those of other lines are ignored.
    select
        order_id,
        order_line_id
    from {{ ref('int_order_lines_mapped') }}
    where item_type = 'FLIGHT' and {{ touched_orders_filter('order_id') }}
),

compacted as (
    select
        segments.*,
        flight_items.order_id,
        {{ ascii_upper("replace(segments.flight_number_text, ' ', '')") }} as flight_number_compact
    from segments
    inner join flight_items
        on segments.order_line_id = flight_items.order_line_id
),

normalised as (
    select
        order_id,
        order_line_id,
        segment_id,
        segment_id_as_stored,
        segment_number,
        origin,
        destination,
        {{ format_local_minutes('departure_at_text') }} as departure_date_time,
        {{ format_local_minutes('arrival_at_text') }} as arrival_date_time,
        -- 'FR 0459' -> '459': the carrier's code (or else any two leading
        -- letters), then leading zeros go; what is left must be digits.
        nullif(
            {{ regexp_extract_text(
                trim_characters(
                    "case
                        when carrier is not null and " ~ starts_with('flight_number_compact', 'carrier') ~ "
                            then substr(flight_number_compact, length(carrier) + 1)
                        else regexp_replace(flight_number_compact, '^[A-Z]{2}', '')
                    end",
                    "'0'",
                    'leading'
                ),
                "'^[0-9]+$'"
            ) }},
            ''
        ) as flight_number,
        nullif({{ title_case('fare_class') }}, '') as fare_class,
        nullif({{ title_case('fare_family') }}, '') as fare_family,
        carrier,
        origin || '-' || destination as origin_destination
    from compacted
),

validated as (
    select
        *,
        segment_id is not null
        and origin is not null
        and destination is not null
        and departure_date_time is not null
        and arrival_date_time is not null
        and flight_number is not null
        and fare_class is not null
        and carrier is not null as is_valid,
        {{ json_object([
            ('id', json_string('segment_id')),
            ('origin', json_string('origin')),
            ('destination', json_string('destination')),
            ('departureDateTime', json_string('departure_date_time')),
            ('arrivalDateTime', json_string('arrival_date_time')),
            ('flightNumber', json_string('flight_number')),
            ('fareClass', json_string('fare_class')),
            ('fareFamily', json_string('fare_family')),
            ('carrier', json_string('carrier')),
            ('originDestination', json_string('origin_destination')),
        ]) }} as segment_json
    from normalised
)

select * from validated
