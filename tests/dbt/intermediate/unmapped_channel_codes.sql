-- Warn: source channels that map to OTHER because channel_map does not know
-- them. Each row is a code to add to seeds/channel_map.csv (or to accept).
{{ config(severity='warn') }}

with

orders as (
    select * from {{ ref('int_orders_mapped') }}
),

channels as (
    select * from {{ ref('channel_map') }}
)

select
    orders.channel_code,
    count(*) as order_count
from orders
left join channels
    on orders.channel_code = {{ lookup_key('channels.source_channel') }}
where
    orders.channel_code is not null
    and channels.source_channel is null
group by orders.channel_code
