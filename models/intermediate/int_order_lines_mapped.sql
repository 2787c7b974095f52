{%- set max_name_length = var('max_item_name_length') -%}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows() }}",
) }}

with

lines as (
    select * from {{ ref('stg_raw__order_lines') }}
    where version_rank = 1 and {{ touched_orders_filter('order_id') }}
),

orders as (
    select * from {{ ref('int_orders_mapped') }}
    where {{ touched_orders_filter('order_id') }}
),

item_statuses as (
    select * from {{ ref('order_status_map') }}
),

product_types as (
    select * from {{ ref('product_type_map') }}
),

passenger_types as (
    select * from {{ ref('passenger_type_map') }}
),

currencies as (
    select * from {{ ref('iso_4217_currencies') }}
),

duplicated_references as (
    -- A group by on the two keys, not a window over the whole lines: at 10M
    -- orders the window sorted 26M wide rows and spilled them.
    select
        order_id,
        item_reference_id
    from lines
    where item_reference_id is not null
    group by order_id, item_reference_id
    having count(*) > 1
),

mapped as (
    select
        lines.order_line_id,
        lines.order_id,
        lines.item_reference_id,
        duplicated_references.order_id is not null as is_item_reference_duplicated,
        lines.product_type_code,
        coalesce(product_types.cdp_item_type, 'OTHER') as item_type,
        lines.product_id,
        left(coalesce(lines.product_name, lines.product_id), {{ max_name_length }}) as item_name,
        coalesce(
            lines.product_description,
            left(coalesce(lines.product_name, lines.product_id), {{ max_name_length }})
        ) as item_description,
        coalesce(lines.vendor, orders.point_of_sale) as vendor,
        coalesce(lines.created_at, orders.ordered_at) as ordered_at,
        coalesce(lines.quantity, 1) as quantity,
        lines.unit_price as price,
        lines.currency_code,
        line_currencies.currency_code is not null as is_currency_valid,
        -- Both or neither: a price without a valid currency means nothing.
        case
            when lines.original_unit_price is not null and original_currencies.currency_code is not null
                then lines.original_unit_price
        end as original_price,
        case
            when lines.original_unit_price is not null and original_currencies.currency_code is not null
                then original_currencies.currency_code
        end as original_currency_code,
        lines.status_code,
        case
            when lines.status_code is null then 'UNKNOWN'
            else item_statuses.item_status
        end as item_status,
        orders.channel,
        orders.language,
        -- consumerTypeCode is only applicable for flights (spec §7.2).
        case
            when coalesce(product_types.cdp_item_type, 'OTHER') = 'FLIGHT'
                then passenger_types.cdp_consumer_type_code
        end as consumer_type_code,
        lines.passenger_index
    from lines
    inner join orders
        on lines.order_id = orders.order_id
    left join item_statuses
        on lines.status_code = {{ lookup_key('item_statuses.source_status') }}
    left join product_types
        on lines.product_type_code = {{ lookup_key('product_types.source_product_type') }}
    left join passenger_types
        on lines.passenger_type_code = {{ lookup_key('passenger_types.source_passenger_type') }}
    left join currencies as line_currencies
        on lines.currency_code = line_currencies.currency_code
    left join currencies as original_currencies
        on lines.original_currency_code = original_currencies.currency_code
    left join duplicated_references
        on
            lines.order_id = duplicated_references.order_id
            and lines.item_reference_id = duplicated_references.item_reference_id
)

select * from mapped
