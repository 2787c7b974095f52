{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows() }}",
) }}

with

orders as (
    select * from {{ ref('stg_raw__orders') }}
    where version_rank = 1 and {{ touched_orders_filter('order_id') }}
),

order_statuses as (
    select * from {{ ref('order_status_map') }}
),

channels as (
    select * from {{ ref('channel_map') }}
),

payment_types as (
    select * from {{ ref('payment_type_map') }}
),

card_types as (
    select * from {{ ref('card_type_map') }}
),

currencies as (
    select * from {{ ref('iso_4217_currencies') }}
),

languages as (
    select * from {{ ref('iso_639_1_languages') }}
),

mapped as (
    select
        orders.order_id,
        orders.booking_reference,
        orders.reference_id,
        orders.point_of_sale,
        orders.customer_id,
        orders.ordered_at_text,
        orders.ordered_at,
        orders.updated_at,
        orders.status_code,
        order_statuses.order_status,
        orders.channel_code,
        coalesce(channels.cdp_channel, 'OTHER') as channel,
        orders.currency_code,
        currencies.currency_code is not null as is_currency_valid,
        orders.total_amount as price,
        coalesce(payment_types.cdp_payment_type, 'Other') as payment_type,
        case
            when coalesce(payment_types.cdp_payment_type, 'Other') = 'Card'
                then coalesce(card_types.cdp_card_type, 'Other')
        end as card_type,
        languages.language_code as language,
        orders.is_test,
        orders.deleted_at
    from orders
    left join order_statuses
        on orders.status_code = {{ lookup_key('order_statuses.source_status') }}
    left join channels
        on orders.channel_code = {{ lookup_key('channels.source_channel') }}
    left join payment_types
        on orders.payment_method_code = {{ lookup_key('payment_types.source_payment_method') }}
    left join card_types
        on orders.card_brand_code = {{ lookup_key('card_types.source_card_brand') }}
    left join currencies
        on orders.currency_code = currencies.currency_code
    left join languages
        on orders.locale_language_code = languages.language_code
)

select * from mapped
