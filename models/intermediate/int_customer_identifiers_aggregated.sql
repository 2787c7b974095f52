{#- A night rebuilds the customers the touched orders read (touched_customers_filter). -#}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows('customer_id') }}",
    slices_from='int_customer_identifiers_deduplicated',
    sliced_by='customer_id',
) }}

with

identifiers as (
    select * from {{ ref('int_customer_identifiers_deduplicated') }}
    where {{ build_slice_filter('customer_id') }} and {{ touched_customers_filter('customer_id') }}
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
    from identifiers
    group by customer_id
)

select * from aggregated
