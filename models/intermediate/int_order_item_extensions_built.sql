{{ config(
    materialized=('sliced_table' if target.type == 'duckdb' else 'table'),
    slices_from='stg_raw__order_line_attributes',
    sliced_by='order_line_id',
) }}

{{ extension_attributes(ref('stg_raw__order_line_attributes'), 'order_line_id', sliced=true) }}
