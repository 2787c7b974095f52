{{ extension_attributes(ref('stg_raw__order_line_attributes'), 'order_line_id') }}
