{#- Which orders this build rebuilds, and why: one row per order with what
    the raw tables held for it at the last build that touched it. A full
    build touches every order ('backfill'). A nightly (incremental) build
    touches, from the raw tables alone:
    - orders with a new version: their count of versions or latest updated_at
      differs from the one stored (a count, so a version written with an
      earlier updated_at counts too); the same for the versions of their
      lines, with every order a version of those lines was in;
    - orders whose rows without a timestamp changed (segments, passengers,
      attributes, line attributes): found by the fingerprint of each
      (fingerprint_rows), compared with the one stored;
    - orders whose customer or a passenger's customer changed (the customer
      row or its identifiers), by a fingerprint in the same way;
    - and every order that shares a referenceId, now or before, with one of
      those: the 24-hour rule can change its neighbours' fate;
    - and the orders of a build that did not rebuild them all (on-run-end,
      settle_touched_orders).
    The order-grain models rebuild the orders whose touched_build_id is this
    build's (touched_orders_filter). -#}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

all_orders as (
    -- The versions of each order: a new one changes their count (and
    -- mostly the latest updated_at), whatever its updated_at.
    select
        order_id,
        max(updated_at) as orders_updated_at,
        count(*) as order_versions
    from {{ source('raw', 'orders') }}
    group by order_id
),

line_versions as (
    -- The same for the versions of lines, by the order each version names.
    select
        order_id,
        max(updated_at) as lines_updated_at,
        count(*) as line_versions
    from {{ source('raw', 'order_lines') }}
    group by order_id
),

line_owners as (
    -- Every order any version of a line was in.
    select distinct
        order_line_id,
        order_id
    from {{ source('raw', 'order_lines') }}
),

segments as (
    select
        line_owners.order_id,
        {{ fingerprint_rows([
            'segments.order_line_id', 'segments.segment_id', 'segments.segment_number',
            'segments.origin', 'segments.destination', 'segments.departure_at',
            'segments.arrival_at', 'segments.carrier', 'segments.flight_number',
            'segments.fare_class', 'segments.fare_family',
        ]) }} as segments_fingerprint
    from {{ source('raw', 'flight_segments') }} as segments
    inner join line_owners
        on segments.order_line_id = line_owners.order_line_id
    group by line_owners.order_id
),

passengers as (
    select
        order_id,
        {{ fingerprint_rows(['passenger_index', 'title', 'first_name', 'last_name', 'customer_id']) }}
            as passengers_fingerprint
    from {{ source('raw', 'order_passengers') }}
    group by order_id
),

attributes as (
    select
        order_id,
        {{ fingerprint_rows(['attribute_name', 'attribute_value', 'value_type']) }} as attributes_fingerprint
    from {{ source('raw', 'order_attributes') }}
    group by order_id
),

line_attributes as (
    select
        line_owners.order_id,
        {{ fingerprint_rows([
            'line_attributes.order_line_id', 'line_attributes.attribute_name',
            'line_attributes.attribute_value', 'line_attributes.value_type',
        ]) }} as line_attributes_fingerprint
    from {{ source('raw', 'order_line_attributes') }} as line_attributes
    inner join line_owners
        on line_attributes.order_line_id = line_owners.order_line_id
    group by line_owners.order_id
),

customer_identifiers as (
    select
        customer_id,
        {{ fingerprint_rows(['provider', 'external_id', 'expires_at']) }} as identifiers_fingerprint
    from {{ source('raw', 'customer_identifiers') }}
    group by customer_id
),

customer_rows as (
    select
        customers.customer_id,
        {{ fingerprint_row([
            'customers.customer_id', 'customers.title', 'customers.first_name',
            'customers.last_name', 'customers.gender', 'customers.birth_date',
            'customers.email', 'customers.phone_primary', 'customers.phone_secondary',
            'customers.created_at', 'customers.updated_at',
            'customer_identifiers.identifiers_fingerprint',
        ]) }} as customer_fingerprint
    from {{ source('raw', 'customers') }} as customers
    left join customer_identifiers
        on customers.customer_id = customer_identifiers.customer_id
),

order_customers as (
    -- The customers an order's record reads: who ordered (in any version)
    -- and the passengers' own customers.
    select distinct
        order_id,
        customer_id
    from (
        select
            order_id,
            customer_id
        from {{ source('raw', 'orders') }}
        union all
        select
            order_id,
            customer_id
        from {{ source('raw', 'order_passengers') }}
    ) as readers
    where customer_id is not null
),

customers as (
    select
        order_customers.order_id,
        {{ fingerprint_rows(['order_customers.customer_id', 'customer_rows.customer_fingerprint']) }}
            as customers_fingerprint
    from order_customers
    left join customer_rows
        on order_customers.customer_id = customer_rows.customer_id
    group by order_customers.order_id
),

fingerprints as (
    select
        all_orders.order_id,
        all_orders.orders_updated_at,
        all_orders.order_versions,
        line_versions.lines_updated_at,
        line_versions.line_versions,
        segments.segments_fingerprint,
        passengers.passengers_fingerprint,
        attributes.attributes_fingerprint,
        line_attributes.line_attributes_fingerprint,
        customers.customers_fingerprint
    from all_orders
    left join line_versions
        on all_orders.order_id = line_versions.order_id
    left join segments
        on all_orders.order_id = segments.order_id
    left join passengers
        on all_orders.order_id = passengers.order_id
    left join attributes
        on all_orders.order_id = attributes.order_id
    left join line_attributes
        on all_orders.order_id = line_attributes.order_id
    left join customers
        on all_orders.order_id = customers.order_id
),

{% if is_incremental() %}

stored as (
    select * from {{ this }}
),

{%- set fingerprinted = ['segments', 'passengers', 'attributes', 'line_attributes', 'customers'] %}

compared as (
    -- What differs from the stored row, every order in one join (a join per
    -- reason took a second more at 1M orders).
    select
        fingerprints.order_id,
        stored.order_id is null as is_new,
        (
            fingerprints.order_versions <> stored.order_versions
            or fingerprints.orders_updated_at <> stored.orders_updated_at
        ) as has_new_version,
        stored.order_id is not null and (
            fingerprints.line_versions is distinct from stored.line_versions
            or fingerprints.lines_updated_at is distinct from stored.lines_updated_at
        ) as has_new_line_version,
        {%- for name in fingerprinted %}
            stored.order_id is not null
            and fingerprints.{{ name }}_fingerprint is distinct from stored.{{ name }}_fingerprint
            as {{ name }}_changed{{ ',' if not loop.last }}
        {%- endfor %}
    from fingerprints
    left join stored
        on fingerprints.order_id = stored.order_id
),

new_versions as (
    -- New or changed orders, erasures and test flags included: a new version.
    select
        order_id,
        case when is_new then 'new_order' else 'order_version' end as reason
    from compared
    where is_new or has_new_version
),

changed_lines as (
    select order_id
    from compared
    where has_new_line_version
),

new_line_versions as (
    -- A new version of a line: its order, and every order a version of one
    -- of the order's lines was in (a line that moved leaves the other).
    select distinct
        co_owners.order_id,
        'line_version' as reason
    from line_owners
    inner join line_owners as co_owners
        on line_owners.order_line_id = co_owners.order_line_id
    where line_owners.order_id in (select changed_lines.order_id from changed_lines)
    union
    select
        order_id,
        'line_version' as reason
    from changed_lines
),

changed_rows as (
    -- Rows without a timestamp: a fingerprint that differs from the stored one.
    {%- for name in fingerprinted %}
        select
            order_id,
            '{{ name }}' as reason
        from compared
        where {{ name }}_changed
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

unfinished as (
    -- Touched by a build that did not rebuild them all (settle_touched_orders).
    select
        order_id,
        'unfinished_build' as reason
    from stored
    where touched_build_id = 'unfinished'
),

directly_touched as (
    select * from unfinished
    union all
    select * from new_versions
    union all
    select * from new_line_versions
    union all
    select * from changed_rows
),

touched_references as (
    -- The referenceIds of the touched orders, before (as stored) and now
    -- (in any version).
    select stored.reference_id
    from stored
    where stored.order_id in (select directly_touched.order_id from directly_touched)
    union
    select reference_id
    from {{ ref('stg_raw__orders') }}
    where order_id in (select directly_touched.order_id from directly_touched)
),

status_changes as (
    -- What a new version did: erased the order, or made it a test order.
    select
        versions.order_id,
        case when versions.is_test then 'test_order' else 'erased' end as reason
    from {{ ref('stg_raw__orders') }} as versions
    inner join stored
        on versions.order_id = stored.order_id
    where
        versions.version_rank = 1
        and versions.order_id in (select new_versions.order_id from new_versions)
        and (
            (versions.is_test and not stored.is_test)
            or (versions.deleted_at is not null and not stored.is_deleted)
        )
),

neighbours as (
    select
        order_id,
        'reference_neighbour' as reason
    from stored
    where
        reference_id in (select touched_references.reference_id from touched_references)
        and order_id not in (select directly_touched.order_id from directly_touched)
),

{% endif %}

reasons as (
    {%- if is_incremental() %}
        select distinct
            order_id,
            reason
        from (
            select * from directly_touched
            union all
            select * from status_changes
            union all
            select * from neighbours
        ) as touched
    {%- else %}
        select
            order_id,
            'backfill' as reason
        from all_orders
    {%- endif %}
),

touched as (
    select
        order_id,
        {{ ordered_string_agg('reason', "','", 'reason') }} as touched_because
    from reasons
    group by order_id
),

current_versions as (
    select
        order_id,
        reference_id,
        is_test,
        deleted_at is not null as is_deleted
    from {{ ref('stg_raw__orders') }}
    where
        version_rank = 1
        and order_id in (select touched.order_id from touched)
),

final as (
    select
        touched.order_id,
        current_versions.reference_id,
        current_versions.is_test,
        current_versions.is_deleted,
        fingerprints.orders_updated_at,
        fingerprints.order_versions,
        fingerprints.lines_updated_at,
        fingerprints.line_versions,
        fingerprints.segments_fingerprint,
        fingerprints.passengers_fingerprint,
        fingerprints.attributes_fingerprint,
        fingerprints.line_attributes_fingerprint,
        fingerprints.customers_fingerprint,
        touched.touched_because,
        {{ build_id() }} as touched_build_id,
        {{ build_started_at() }} as touched_at
    from touched
    inner join current_versions
        on touched.order_id = current_versions.order_id
    inner join fingerprints
        on touched.order_id = fingerprints.order_id
)

select * from final
