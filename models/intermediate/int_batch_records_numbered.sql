-- The file order of a full export, over the keys alone: cdp_batch_records
-- builds its lines a slice of orders at a time and takes each line's seq here.
with

deletes as (
    select order_id from {{ ref('cdp_order_deletes') }}
),

orders as (
    select order_id from {{ ref('int_orders_classified') }}
    where destination = 'shipped'
),

file_order as (
    {{ batch_file_order('deletes', 'orders') }}
)

select * from file_order
