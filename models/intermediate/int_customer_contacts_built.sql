{#- The contact JSON is long text: stored compressed (macros/engines/long_text_storage.sql).
    A night rebuilds the customers the touched orders read (touched_customers_filter). -#}
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook=[
        "{{ delete_touched_rows('customer_id') }}",
        before_begin("{{ begin_long_text_compression() }}"),
    ],
    post_hook=after_commit("{{ end_long_text_compression() }}"),
) }}

with

customers as (
    select * from {{ ref('stg_raw__customers') }}
    where {{ touched_customers_filter('customer_id') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers_aggregated') }}
),

titles as (
    select * from {{ ref('cdp_titles') }}
),

genders as (
    select * from {{ ref('gender_map') }}
),

normalised as (
    select
        customers.customer_id,
        titles.title,
        customers.first_name,
        customers.last_name,
        genders.cdp_gender as gender,
        customers.birth_date,
        case
            when {{ regexp_full_match('customers.email', "'[^@ \\t\\r\\n]+@[^@ \\t\\r\\n]+\\.[^@ \\t\\r\\n]+'") }}
                then customers.email
        end as email,
        {{ phone_number('customers.phone_primary') }} as phone_primary,
        {{ phone_number('customers.phone_secondary') }} as phone_secondary,
        identifiers.identifier_count,
        identifiers.identifiers_json
    from customers
    left join titles
        on {{ title_candidate('customers.title') }} = titles.title
    left join genders
        on customers.gender_code = {{ lookup_key('genders.source_gender') }}
    left join identifiers
        on customers.customer_id = identifiers.customer_id
),

phones as (
    select
        *,
        nullif(
            '[' || concat_ws(
                ',',
                {{ json_string('phone_primary') }},
                -- Primary first, and no number twice.
                {{ json_string("case when phone_secondary <> coalesce(phone_primary, '') then phone_secondary end") }}
            ) || ']',
            '[]'
        ) as phone_numbers_json
    from normalised
),

built as (
    select
        customer_id,
        title,
        first_name,
        last_name,
        gender,
        birth_date,
        email,
        phone_numbers_json,
        coalesce(identifier_count, 0) as identifier_count,
        identifiers_json,
        -- CDP resolves the guest from an email or an identifier (spec §5.1).
        email is not null or identifiers_json is not null as is_matchable,
        {{ json_object([
            ('title', json_string('title')),
            ('firstName', json_string('first_name')),
            ('lastName', json_string('last_name')),
            ('gender', json_string('gender')),
            ('dateOfBirth', json_formatted_text(format_date_midnight('birth_date'))),
            ('email', json_string('email')),
            ('phoneNumbers', 'phone_numbers_json'),
            ('identifiers', 'identifiers_json'),
        ]) }} as contact_json
    from phones
)

select * from built
