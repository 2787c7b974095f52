{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows() }}",
    slices_from='int_orders_mapped',
) }}
-- The slices are cut from the orders:
-- depends_on: {{ ref('int_orders_mapped') }}

{{ extension_attributes(
    ref('stg_raw__order_attributes'), 'order_id', sliced=true,
    touched=touched_orders_filter('order_id'),
) }}
