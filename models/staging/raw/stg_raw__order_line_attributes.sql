with

source as (
    select * from {{ source('raw', 'order_line_attributes') }}
),

renamed as (
    select
        order_line_id,
        -- Names and values stay as stored: duplicates are settled on the
        -- stored name, and string values are sent untrimmed.
        attribute_name,
        attribute_value,
        {{ lookup_key('value_type') }} as value_type
    from source
)

select * from renamed
