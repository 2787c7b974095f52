{#- One row per dbt build, appended: the reconciliation of that build. Kept
    across `dbt build --full-refresh` (full_refresh=false): a history rebuilt
    from scratch would hold the latest build only. Spark's Parquet tables
    take appends only; the filter below keeps a build from being added twice
    either way. -#}
{{ config(
    materialized='incremental',
    unique_key='build_id',
    incremental_strategy=('append' if target.type == 'spark' else 'delete+insert'),
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

with

reconciliation as (
    select * from {{ ref('cdp_order_reconciliation') }}
),

final as (
    select
        build_id,
        reconciled_at as built_at,
        cast(reconciled_at as date) as built_on,
        current_orders,
        shipped_orders,
        deleted_orders,
        excluded_orders,
        quarantined_orders,
        unaccounted_orders
    from reconciliation
    {% if is_incremental() %}
        where build_id not in (select earlier.build_id from {{ this }} as earlier)
    {% endif %}
)

select * from final
