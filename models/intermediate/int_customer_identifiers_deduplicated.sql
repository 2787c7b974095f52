with

identifiers as (
    select * from {{ ref('stg_raw__customer_identifiers') }}
    -- An identifier whose provider or id is empty identifies nobody.
    where provider is not null and external_id is not null
),

deduplicated as (
    select
        customer_id,
        provider,
        external_id,
        -- Duplicates collapse to the latest expiry; no expiry is the latest.
        case when bool_or(expires_at is null) then null else max(expires_at) end as expires_at
    from identifiers
    group by customer_id, provider, external_id
)

select * from deduplicated
