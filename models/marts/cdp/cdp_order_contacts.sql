with

orders as (
    select
        order_id,
        customer_id
    from {{ ref('cdp_orders') }}
),

contacts as (
    select * from {{ ref('int_customer_contacts_built') }}
),

final as (
    select
        orders.order_id,
        contacts.customer_id,
        contacts.title,
        contacts.first_name,
        contacts.last_name,
        contacts.gender,
        contacts.birth_date,
        contacts.email,
        contacts.phone_numbers_json,
        contacts.identifier_count
    from orders
    inner join contacts
        on orders.customer_id = contacts.customer_id
)

select * from final
