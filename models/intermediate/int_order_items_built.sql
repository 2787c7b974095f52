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

lines as (
    select * from {{ ref('int_order_lines_mapped') }}
    where {{ build_slice_filter('order_id') }} and {{ touched_orders_filter('order_id') }}
),

segments as (
    -- The segments of the slice's lines: a segment knows its line, not its order.
    select * from {{ ref('int_flight_segments_normalised') }}
    where order_line_id in (select lines.order_line_id from lines)
),

item_extensions as (
    select * from {{ ref('int_order_item_extensions_built') }}
    where order_line_id in (select lines.order_line_id from lines)
),

segments_per_line as (
    select
        order_line_id,
        count(*) as segment_count,
        count(*) filter (where not is_valid) as invalid_segment_count,
        {{ json_array_agg('segment_json', 'segment_number, segment_id_as_stored') }}
            as flight_segments_json
    from segments
    group by order_line_id
),

checked as (
    select
        lines.*,
        coalesce(segments_per_line.segment_count, 0) as segment_count,
        segments_per_line.flight_segments_json,
        item_extensions.extensions_json,
        coalesce(item_extensions.attributes_sent, 0) as extension_attributes_sent,
        coalesce(item_extensions.attributes_dropped, 0) as extension_attributes_dropped,
        -- The first item rule broken, for analysts; the order is quarantined
        -- as invalid_item whichever it is.
        case
            when lines.price is null then 'missing_price'
            when lines.product_id is null then 'missing_product_id'
            when lines.item_reference_id is null then 'missing_reference'
            when lines.is_item_reference_duplicated then 'duplicate_reference'
            when lines.item_type = 'FLIGHT' and lines.consumer_type_code is null
                then 'missing_consumer_type'
            when lines.item_type = 'FLIGHT' and segments_per_line.segment_count is null
                then 'no_flight_segments'
            when lines.item_type = 'FLIGHT' and segments_per_line.invalid_segment_count > 0
                then 'invalid_flight_segment'
        end as invalid_item_reason
    from lines
    left join segments_per_line
        on lines.order_line_id = segments_per_line.order_line_id
    left join item_extensions
        on lines.order_line_id = item_extensions.order_line_id
),

built as (
    select
        *,
        {{ json_object([
            ('type', json_string('item_type')),
            ('productId', json_string('product_id')),
            ('name', json_string('item_name')),
            ('description', json_string('item_description')),
            ('vendor', json_string('vendor')),
            ('orderedAt', json_formatted_text(format_utc_millis('ordered_at'))),
            ('quantity', json_integer('quantity')),
            ('price', json_money('price')),
            ('currencyCode', json_string('currency_code')),
            ('originalPrice', json_money('original_price')),
            ('originalCurrencyCode', json_string('original_currency_code')),
            ('referenceId', json_string('item_reference_id')),
            ('status', json_string('item_status')),
            ('channel', json_string('channel')),
            ('language', json_string('language')),
            ('consumerTypeCode', json_string('consumer_type_code')),
            ('flightSegments', 'flight_segments_json'),
            ('extensions', 'extensions_json'),
        ]) }} as item_json
    from checked
)

select * from built
