{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_line_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows('order_line_id') }}",
    slices_from='stg_raw__order_line_attributes',
    sliced_by='order_line_id',
) }}

{{ extension_attributes(
    ref('stg_raw__order_line_attributes'), 'order_line_id', sliced=true,
    touched=touched_lines_filter('order_line_id'),
) }}
