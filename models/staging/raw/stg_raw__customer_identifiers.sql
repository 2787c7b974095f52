with

source as (
    select * from {{ source('raw', 'customer_identifiers') }}
),

renamed as (
    select
        nullif({{ trim_spaces('customer_id') }}, '') as customer_id,
        nullif({{ trim_spaces('provider') }}, '') as provider,
        nullif({{ trim_spaces('external_id') }}, '') as external_id,
        {{ to_utc_millis('expires_at') }} as expires_at
    from source
)

select * from renamed
