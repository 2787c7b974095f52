with

source as (
    select * from {{ source('raw', 'customers') }}
),

renamed as (
    select
        nullif({{ trim_spaces('customer_id') }}, '') as customer_id,
        nullif({{ trim_spaces('title') }}, '') as title,
        nullif({{ trim_spaces('first_name') }}, '') as first_name,
        nullif({{ trim_spaces('last_name') }}, '') as last_name,
        {{ lookup_key('gender') }} as gender_code,
        birth_date,
        nullif({{ ascii_lower(trim_spaces('email')) }}, '') as email,
        {{ trim_spaces('phone_primary') }} as phone_primary,
        {{ trim_spaces('phone_secondary') }} as phone_secondary,
        {{ to_utc_millis('created_at') }} as created_at,
        {{ to_utc_millis('updated_at') }} as updated_at
    from source
)

select * from renamed
