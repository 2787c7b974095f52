with

source as (
    select * from {{ source('raw', 'order_passengers') }}
),

renamed as (
    select
        order_id,
        passenger_index,
        nullif({{ trim_spaces('title') }}, '') as title,
        nullif({{ trim_spaces('first_name') }}, '') as first_name,
        nullif({{ trim_spaces('last_name') }}, '') as last_name,
        nullif({{ trim_spaces('customer_id') }}, '') as customer_id,
        -- Consumers are ordered by these as stored, after passenger_index.
        last_name as last_name_as_stored,
        first_name as first_name_as_stored,
        title as title_as_stored
    from source
)

select * from renamed
