{{ config(
    materialized=('sliced_table' if target.type == 'duckdb' else 'table'),
    slices_from='int_orders_mapped',
) }}
-- The slices are cut from the orders:
-- depends_on: {{ ref('int_orders_mapped') }}

{{ extension_attributes(ref('stg_raw__order_attributes'), 'order_id', sliced=true) }}
