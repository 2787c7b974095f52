{#- The quarantine reasons in their order of precedence (raw_warehouse.md):
    each with the condition that breaks it. Deleted orders are checked for
    the first three only: a delete needs nothing else. -#}
{%- set quarantine_rules = [
    ('invalid_ordered_at', 'orders.ordered_at is null', true),
    ('missing_reference', 'orders.reference_id is null', true),
    ('reference_collision', 'collisions.order_id is not null', true),
    ('unmapped_status', 'orders.order_status is null or coalesce(items.has_unmapped_status, false)', false),
    ('missing_point_of_sale', 'orders.point_of_sale is null', false),
    ('invalid_currency', 'not orders.is_currency_valid or coalesce(items.has_invalid_currency, false)', false),
    ('missing_price', 'orders.price is null', false),
    ('no_items', 'items.order_id is null', false),
    ('invalid_item', 'coalesce(items.has_invalid_item, false)', false),
    ('no_contact', 'not coalesce(contacts.is_matchable, false)', false),
] -%}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ delete_touched_rows() }}",
) }}

with

orders as (
    select * from {{ ref('int_orders_mapped') }}
    where {{ touched_orders_filter('order_id') }}
),

collisions as (
    select * from {{ ref('int_order_reference_collisions') }}
),

contacts as (
    select
        customer_id,
        is_matchable
    from {{ ref('int_customer_contacts_built') }}
),

items as (
    select
        order_id,
        count(*) as item_count,
        bool_or(item_status is null) as has_unmapped_status,
        bool_or(not is_currency_valid) as has_invalid_currency,
        bool_or(invalid_item_reason is not null) as has_invalid_item
    from {{ ref('int_order_items_built') }}
    where {{ touched_orders_filter('order_id') }}
    group by order_id
),

checked as (
    select
        orders.order_id,
        orders.booking_reference,
        orders.reference_id,
        orders.ordered_at,
        orders.is_test,
        orders.deleted_at is not null as is_deleted,
        -- noqa: disable=LT02
        concat_ws(
            ','
            {%- for reason, condition, applies_to_deletes in quarantine_rules %},
            case
                when
                    ({{ condition }})
                    {%- if not applies_to_deletes %} and orders.deleted_at is null{% endif %}
                    then '{{ reason }}'
            end
            {%- endfor %}
        ) as quarantine_reasons
        -- noqa: enable=LT02
    from orders
    left join collisions
        on orders.order_id = collisions.order_id
    left join items
        on orders.order_id = items.order_id
    left join contacts
        on orders.customer_id = contacts.customer_id
),

classified as (
    select
        order_id,
        booking_reference,
        reference_id,
        ordered_at,
        -- A test order is excluded whatever else is wrong with it.
        case
            when is_test then 'excluded'
            when quarantine_reasons <> '' then 'quarantined'
            when is_deleted then 'deleted'
            else 'shipped'
        end as destination,
        case when not is_test then nullif(quarantine_reasons, '') end as quarantine_reasons,
        case
            when not is_test then nullif(split_part(quarantine_reasons, ',', 1), '')
        end as quarantine_reason
    from checked
)

select * from classified
