with

source as (
    select * from {{ source('raw', 'orders') }}
),

versioned as (
    select
        *,
        -- The current version has the greatest updated_at; ties go to the row
        -- that sorts last on the other columns in table order, NULL last.
        row_number() over (
            partition by order_id
            order by
                updated_at desc,
                booking_reference desc nulls first,
                brand_domain desc nulls first,
                customer_id desc nulls first,
                ordered_at desc nulls first,
                status desc nulls first,
                sales_channel desc nulls first,
                currency desc nulls first,
                total_amount desc nulls first,
                payment_method desc nulls first,
                card_brand desc nulls first,
                locale desc nulls first,
                is_test desc nulls first,
                deleted_at desc nulls first
        ) as version_rank
    from source
),

renamed as (
    select
        order_id,
        version_rank,
        booking_reference,
        nullif({{ ascii_upper(trim_spaces('booking_reference')) }}, '') as reference_id,
        nullif({{ ascii_lower(trim_spaces('brand_domain')) }}, '') as point_of_sale,
        nullif({{ trim_spaces('customer_id') }}, '') as customer_id,
        ordered_at as ordered_at_text,
        {{ parse_iso8601_utc(trim_spaces('ordered_at')) }} as ordered_at,
        {{ to_utc_millis('updated_at') }} as updated_at,
        {{ lookup_key('status') }} as status_code,
        {{ lookup_key('sales_channel') }} as channel_code,
        nullif({{ ascii_upper(trim_spaces('currency')) }}, '') as currency_code,
        total_amount,
        {{ lookup_key('payment_method') }} as payment_method_code,
        {{ lookup_key('card_brand') }} as card_brand_code,
        nullif({{ ascii_upper(regexp_extract_text(trim_spaces('locale'), "'^[^_-]*'")) }}, '')
            as locale_language_code,
        is_test,
        {{ to_utc_millis('deleted_at') }} as deleted_at
    from versioned
)

select * from renamed
