{{ extension_attributes(ref('stg_raw__order_attributes'), 'order_id') }}
