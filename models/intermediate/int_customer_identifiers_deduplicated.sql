{#- A night rebuilds the customers the touched orders read (touched_customers_filter). -#}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows('customer_id') }}",
) }}

with

identifiers as (
    select * from {{ ref('stg_raw__customer_identifiers') }}
    -- An identifier whose provider or id is empty identifies nobody.
    where
        provider is not null
        and external_id is not null
        and {{ touched_customers_filter('customer_id') }}
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
