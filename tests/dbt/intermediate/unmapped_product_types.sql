-- Warn: source product types that become OTHER because product_type_map does
-- not know them. Each row is a type to add to seeds/product_type_map.csv (or
-- to accept).
{{ config(severity='warn') }}

with

lines as (
    select * from {{ ref('int_order_lines_mapped') }}
),

product_types as (
    select * from {{ ref('product_type_map') }}
)

select
    lines.product_type_code,
    count(*) as line_count
from lines
left join product_types
    on lines.product_type_code = {{ lookup_key('product_types.source_product_type') }}
where
    lines.product_type_code is not null
    and product_types.source_product_type is null
group by lines.product_type_code
