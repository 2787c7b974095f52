{#- One row per dbt build and quarantine reason, appended: how many orders
    that build held back for each first rule broken. Kept across `dbt build
    --full-refresh`, as cdp_build_history. -#}
{{ config(
    materialized='incremental',
    unique_key=['build_id', 'reason'],
    incremental_strategy=('append' if target.type == 'spark' else 'delete+insert'),
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

with

quarantine as (
    select * from {{ ref('cdp_order_quarantine') }}
),

reconciliation as (
    select * from {{ ref('cdp_order_reconciliation') }}
),

by_reason as (
    select
        reason,
        count(*) as quarantined_orders,
        count(case when cdp_holds_older_version then 1 end) as held_by_cdp_orders
    from quarantine
    group by reason
),

final as (
    select
        reconciliation.build_id,
        reconciliation.reconciled_at as built_at,
        cast(reconciliation.reconciled_at as date) as built_on,
        by_reason.reason,
        by_reason.quarantined_orders,
        by_reason.held_by_cdp_orders
    from by_reason
    cross join reconciliation
    {% if is_incremental() %}
        where reconciliation.build_id not in (select earlier.build_id from {{ this }} as earlier)
    {% endif %}
)

select * from final
