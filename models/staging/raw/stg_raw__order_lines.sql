with

source as (
    select * from {{ source('raw', 'order_lines') }}
),

versioned as (
    select
        *,
        -- As for orders: greatest updated_at, ties to the row that sorts
        -- last on the other columns in table order, NULL last.
        row_number() over (
            partition by order_line_id
            order by
                updated_at desc,
                order_id desc nulls first,
                line_reference desc nulls first,
                product_type desc nulls first,
                product_code desc nulls first,
                product_name desc nulls first,
                product_description desc nulls first,
                vendor desc nulls first,
                created_at desc nulls first,
                quantity desc nulls first,
                unit_price desc nulls first,
                line_currency desc nulls first,
                original_unit_price desc nulls first,
                original_currency desc nulls first,
                status desc nulls first,
                passenger_type desc nulls first,
                passenger_index desc nulls first
        ) as version_rank
    from source
),

renamed as (
    select
        order_line_id,
        version_rank,
        order_id,
        nullif({{ trim_spaces('line_reference') }}, '') as item_reference_id,
        {{ lookup_key('product_type') }} as product_type_code,
        nullif({{ trim_spaces('product_code') }}, '') as product_id,
        nullif({{ trim_spaces('product_name') }}, '') as product_name,
        nullif({{ trim_spaces('product_description') }}, '') as product_description,
        nullif({{ trim_spaces('vendor') }}, '') as vendor,
        {{ parse_iso8601_utc(trim_spaces('created_at')) }} as created_at,
        {{ to_utc_millis('updated_at') }} as updated_at,
        quantity,
        unit_price,
        nullif({{ ascii_upper(trim_spaces('line_currency')) }}, '') as currency_code,
        original_unit_price,
        nullif({{ ascii_upper(trim_spaces('original_currency')) }}, '') as original_currency_code,
        {{ lookup_key('status') }} as status_code,
        {{ lookup_key('passenger_type') }} as passenger_type_code,
        passenger_index
    from versioned
)

select * from renamed
