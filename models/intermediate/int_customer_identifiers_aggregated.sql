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
),

aggregated as (
    select
        customer_id,
        count(*) as identifier_count,
        {{ json_array_agg(
            json_object([
                ('provider', json_string('provider')),
                ('id', json_string('external_id')),
                ('expiryDate', json_formatted_text(format_utc_millis('expires_at'))),
            ]),
            'provider, external_id'
        ) }} as identifiers_json
    from deduplicated
    group by customer_id
)

select * from aggregated
