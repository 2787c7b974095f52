-- The bulk rows, clean apart from the harmless variety real systems write
-- (case, padding, synonyms, every accepted timestamp form). 40_dirty.sql then
-- breaks the orders the plan picked for a dirty case, and 50_publish.sql
-- copies the staged tables into schema raw. The tables that 40_dirty.sql
-- updates are staged in memory: updating a few rows of a stored table makes
-- DuckDB rewrite the row groups they sit in, everywhere in the table.

create or replace temp table g_raw_customers as select * from raw.customers limit 0;
create or replace temp table g_raw_customer_identifiers as select * from raw.customer_identifiers limit 0;
create or replace temp table g_raw_orders as select * from raw.orders limit 0;
create or replace temp table g_raw_order_lines as select * from raw.order_lines limit 0;
create or replace temp table g_raw_flight_segments as select * from raw.flight_segments limit 0;
create or replace temp table g_raw_order_passengers as select * from raw.order_passengers limit 0;

insert into g_raw_customers
with people as (
    select
        c as customer_no,
        'C' || lpad(c::varchar, 8, '0') as customer_id,
        rnd_unit(c, 'female') < 0.5 as female,
        rnd_pick(c, 'first_f', ['Ann', 'Mary', 'Aoife', 'Siobhán', 'Zoë', 'Chloé', 'Sophie',
            'Emma', 'Laura', 'María', 'Lucía', 'Julia', 'Agnieszka', 'Yuki', 'Priya', 'Niamh',
            'Fatima', 'Ingrid']) as first_f,
        rnd_pick(c, 'first_m', ['Seán', 'John', 'Patrick', 'Liam', 'Ciarán', 'James', 'David',
            'José', 'Pierre', 'Jürgen', 'Łukasz', 'Piotr', 'Shōhei', 'Ahmed', 'Rahul', 'Oisín',
            'Tom', 'Lars']) as first_m,
        rnd_pick(c, 'last', ['Murphy', 'Kelly', 'O''Brien', 'Walsh', 'Smith', 'Jones', 'Brown',
            'García', 'Martínez', 'Müller', 'Schmidt', 'Dubois', 'Lefèvre', 'Nowak', 'Kowalski',
            'Ōtani', 'Tanaka', 'Rossi', 'Silva', 'Ní Bhriain', 'Van der Berg', 'Øvergaard',
            'Şahin', 'Byrne']) as last_name,
        lpad(rnd_int(c, 'phone', 10000000)::varchar, 7, '0') as digits,
        timestamp '2019-01-01' + to_seconds(rnd_int(c, 'created', 5 * 365 * 86400)) as created_ts
    from g_customer_index
),
named as (
    select
        *,
        case when female then first_f else first_m end as first_name,
        lower(strip_accents(case when female then first_f else first_m end)) || '.'
            || lower(replace(replace(strip_accents(last_name), ' ', ''), '''', ''))
            || (customer_no % 1000)::varchar
            || rnd_pick(customer_no, 'domain', ['@example.com', '@example.ie', '@example.co.uk',
                                                '@example.org', '@mail.example.net'])
            as address,
        case rnd_int(customer_no, 'phone_format', 8)
            when 0 then '+353 1 ' || digits[1:3] || ' ' || digits[4:7]
            when 1 then '(086) ' || digits[1:3] || '-' || digits[4:7]
            when 2 then '086' || digits
            when 3 then '+44 20 ' || digits[1:4] || ' ' || digits[5:7] || '0'
            when 4 then '+1-702-555-' || digits[1:4]
            when 5 then '086.' || digits[1:3] || '.' || digits[4:7]
            when 6 then '+353' || digits || '1'
        end as phone
    from people
)
select
    customer_id,
    case when female then rnd_pick(customer_no, 'title', ['Ms', 'Mrs', 'Miss', 'ms', 'Mrs.', 'MS', 'Dr', '', null])
         else rnd_pick(customer_no, 'title', ['Mr', 'Mr', 'mr', 'MR', 'Mr.', 'Dr', 'Prof', '', null]) end,
    case when rnd_unit(customer_no, 'pad') < 0.03 then ' ' || first_name || '  ' else first_name end,
    case when rnd_unit(customer_no, 'pad') < 0.03 then last_name || ' ' else last_name end,
    case when female then rnd_pick(customer_no, 'gender', ['F', 'F', 'female', 'Female', 'f', 'X', '', null])
         else rnd_pick(customer_no, 'gender', ['M', 'M', 'male', 'MALE', 'm', 'U', 'unknown', '', null]) end,
    case when rnd_unit(customer_no, 'dob') < 0.8
         then date '1940-01-01' + rnd_int(customer_no, 'dob_day', 25000)::int end,
    case when rnd_unit(customer_no, 'email') < 0.90 then address
         when rnd_unit(customer_no, 'email') < 0.95 then upper(address[1:1]) || address[2:]
         when rnd_unit(customer_no, 'email') < 0.97 then '  ' || upper(address) || ' '
         when rnd_unit(customer_no, 'email') < 0.99 then null
         else rnd_pick(customer_no, 'bad_email', ['n/a', 'none', replace(address, '@', ' at '),
                                                  split_part(address, '.', 1) || '@example', ''])
    end,
    phone,
    case when rnd_unit(customer_no, 'phone2') < 0.70 then null
         when rnd_unit(customer_no, 'phone2') < 0.76 then phone
         when rnd_unit(customer_no, 'phone2') < 0.78 then digits[1:5]
         when rnd_unit(customer_no, 'phone2') < 0.80 then '+35312345678901234'
         else '+44 7700 ' || digits[1:6]
    end,
    to_utc(created_ts),
    to_utc(created_ts + to_days(rnd_int(customer_no, 'updated', 400)))
from named;

insert into g_raw_customer_identifiers
with held as (
    select
        c as customer_no,
        'C' || lpad(c::varchar, 8, '0') as customer_id,
        unnest([
            case when rnd_unit(c, 'crm') < 0.80 then 'CRM' end,
            case when rnd_unit(c, 'idp') < 0.50 then 'IDENTITY_SYSTEM' end,
            case when rnd_unit(c, 'loyalty') < 0.25 then 'Loyalty Program' end
        ]) as provider
    from g_customer_index
)
select
    customer_id,
    provider,
    case provider
        when 'CRM' then 'CRM-' || lpad(customer_no::varchar, 8, '0')
        when 'IDENTITY_SYSTEM' then upper(md5('idp' || {seed} || '-' || customer_no)::uuid::varchar)
        else 'SPN' || lpad(rnd_int(customer_no, 'loyalty_no', 1000000000)::varchar, 9, '0')
    end,
    case when provider = 'Loyalty Program'
         then to_utc(timestamp '2023-06-30 23:59:59'
                              + to_days(rnd_int(customer_no, 'expiry', 1200))) end
from held
where provider is not null;

insert into g_raw_orders
with totals as (
    select order_id, sum(line_unit_price(order_line_id, price_min, price_max, is_refund)
                         * line_quantity(order_line_id, family)) as total
    from g_lines
    group by order_id
),
versioned as (
    select
        o.*,
        unnest(range(o.version_count + case when o.has_tied_version then 1 else 0 end))
            as version_no,
        o.ordered_ts + to_minutes(5 + rnd_int(o.i, 'updated', 60 * 24 * 20)) as latest_update
    from g_orders o
)
select
    v.order_id,
    case when rnd_unit(v.i, 'ref_style') < 0.01 then '  ' || lower(v.reference) || ' '
         when rnd_unit(v.i, 'ref_style') < 0.02 then lower(v.reference)
         else v.reference end,
    case when rnd_unit(v.i, 'brand_style') < 0.02 then 'SpinAir' || v.brand_domain[8:]
         when rnd_unit(v.i, 'brand_style') < 0.03 then ' ' || v.brand_domain || ' '
         else v.brand_domain end,
    v.customer_id,
    v.ordered_at_text,
    to_utc(case
        when v.version_no = 0 or v.version_no = v.version_count then v.latest_update
        else v.latest_update - to_hours(v.version_no * 6) end),
    case
        -- the tied version differs only in case, so either row maps the same
        when v.version_no = v.version_count and v.status_code = upper(v.status_code)
            then lower(v.status_code)
        when v.version_no = v.version_count then upper(v.status_code)
        when v.version_no = 1 then 'pending'
        when v.version_no = 2 then 'awaiting_payment'
        else v.status_code end,
    v.sales_channel,
    case when rnd_unit(v.i, 'currency_style') < 0.02 then lower(v.currency)
         when rnd_unit(v.i, 'currency_style') < 0.03 then ' ' || v.currency || ' '
         else v.currency end,
    coalesce(t.total, 0),
    v.payment_method,
    case when lower(v.payment_method) = 'card' then v.card_brand end,
    v.locale,
    v.is_test,
    case when v.is_deleted and v.version_no = 0
         then to_utc(v.latest_update + interval 3 day) end
from versioned v
left join totals t on t.order_id = v.order_id;

insert into g_raw_order_lines
with priced as (
    select
        l.*,
        line_quantity(order_line_id, family) as quantity,
        line_unit_price(order_line_id, price_min, price_max, is_refund) as unit_price,
        rnd_unit(order_line_id, 'versions') < 0.04 as has_old_version,
        rnd_unit(order_line_id, 'tie') < 0.002 as has_tied_version,
        ordered_ts + to_minutes(1 + rnd_int(order_line_id, 'updated', 60 * 24 * 20)) as latest_update
    from g_lines l
),
versioned as (
    select
        *,
        -- 0 the current row, 1 an older one, 2 one tied with the current
        unnest([0]
               || case when has_old_version then [1] else [] end
               || case when has_tied_version then [2] else [] end) as version_no
    from priced
)
select
    order_line_id,
    order_id,
    reference || '-' || line_no,
    product_type,
    case family
        when 'flight' then from_code || '-' || to_code
        when 'bag' then rnd_pick(order_line_id, 'bag', ['BAG10', 'BAG20', 'BAG23', 'BAG32'])
        when 'seat' then rnd_pick(order_line_id, 'seat', ['SEAT-STD', 'SEAT-XL', 'SEAT-FRONT'])
        when 'hotel' then 'HTL-' || to_code || '-' || lpad(rnd_int(order_line_id, 'hotel', 900)::varchar, 3, '0')
        when 'car' then 'CAR-' || to_code || '-' || rnd_pick(order_line_id, 'car', ['ECON', 'COMP', 'SUV'])
        when 'insurance' then rnd_pick(order_line_id, 'ins', ['INS-SINGLE', 'INS-ANNUAL'])
        when 'meal' then rnd_pick(order_line_id, 'meal', ['MEAL-HOT', 'MEAL-VEG', 'MEAL-KIDS'])
        when 'transfer' then 'TRF-' || to_code
        when 'lounge' then 'LNG-' || from_code
        when 'parking' then 'PRK-' || from_code
        when 'fee' then 'FEE-ADMIN'
        else upper(replace(family, ' ', '-')) || '-' || (order_line_id % 97)::varchar
    end,
    case family
        when 'flight' then 'Flight ' || from_code || ' to ' || to_code
        when 'bag' then 'Checked bag'
        when 'seat' then 'Seat selection'
        when 'hotel' then 'Hotel stay in ' || to_code
        when 'car' then 'Car hire at ' || to_code
        when 'insurance' then 'Travel insurance'
        when 'meal' then 'Meal on board'
        when 'transfer' then 'Airport transfer ' || to_code
        when 'lounge' then 'Lounge access ' || from_code
        when 'parking' then 'Parking at ' || from_code
        when 'fee' then 'Booking fee'
        else upper(family[1:1]) || family[2:]
    end,
    case when rnd_unit(order_line_id, 'description') < 0.9 then
        case family
            when 'flight' then airline.name || ' flight ' || from_code || ' - ' || to_code
            when 'hotel' then 'Room only, free cancellation'
            else 'Added during booking'
        end end,
    case family
        when 'flight' then airline.name
        when 'hotel' then rnd_pick(order_line_id, 'hotel_brand', ['Hilton', 'Marriott', 'Premier Inn', 'Ibis', 'Meliá', 'Novotel'])
        when 'car' then rnd_pick(order_line_id, 'car_brand', ['Hertz', 'Avis', 'Europcar', 'Sixt'])
        when 'insurance' then rnd_pick(order_line_id, 'insurer', ['Allianz', 'AXA'])
        when 'transfer' then 'HolidayTaxis'
        when 'lounge' then 'Aspire Lounges'
        else 'Spinair'
    end,
    case when rnd_unit(order_line_id, 'created_style') < 0.7
         then ordered_at_text
         else iso_text(ordered_ts + to_minutes(line_no), 0, 'Z', 'T', true, 3) end,
    to_utc(case when version_no = 1 then latest_update - interval 2 hour else latest_update end),
    quantity,
    case when version_no = 1 then unit_price + 10 else unit_price end,
    case when rnd_unit(order_line_id, 'currency_style') < 0.02 then lower(currency) else currency end,
    case when family in ('hotel', 'car') and rnd_unit(order_line_id, 'original') < 0.4
         then round(unit_price * 1.09, 2) end,
    case when family in ('hotel', 'car') and rnd_unit(order_line_id, 'original') < 0.4
         then 'USD' end,
    case
        when version_no = 1 then 'reserved'
        -- a tie differs only in case, so either row maps the same
        when version_no = 2 then upper(trim(status_code))
        when family = 'flight' and lower(trim(status_code)) = 'confirmed'
             and rnd_unit(order_line_id, 'ticketed') < 0.5 then 'ticketed'
        else lower(trim(status_code)) end,
    case
        when family = 'flight' and ((line_no - 1) % passenger_count) = 0
            then rnd_pick(order_line_id, 'adult', ['ADT', 'ADT', 'ADT', 'ADT', 'adult', 'Adult', 'adt'])
        when family = 'flight'
            then rnd_pick(order_line_id, 'pax_type', ['ADT', 'ADT', 'CHD', 'child', 'INF', 'infant', 'INS', 'Adult'])
        when per_passenger and rnd_unit(order_line_id, 'pax_type_extra') < 0.2 then 'ADT'
    end,
    case when per_passenger then ((line_no - 1) % passenger_count) + 1 end
from versioned;

insert into g_raw_flight_segments
select
    order_line_id::varchar || '-' || segment_number,
    order_line_id,
    segment_number,
    origin,
    destination,
    iso_text(leg_departure_ts, origin_offset,
             case when origin_offset = 0 and rnd_unit(segment_key, 'dep_z') < 0.3 then 'Z' else 'colon' end,
             'T', rnd_unit(segment_key, 'dep_seconds') < 0.8, 0),
    iso_text(leg_arrival_ts, destination_offset,
             case when rnd_unit(segment_key, 'arr_basic') < 0.1 then 'basic' else 'colon' end,
             'T', rnd_unit(segment_key, 'dep_seconds') < 0.8, 0),
    airline.code,
    case rnd_int(segment_key, 'flight_number_style', 4)
        when 0 then airline.code || ' ' || lpad((1 + rnd_int(segment_key, 'flight_number', 9998))::varchar, 4, '0')
        when 1 then airline.code || (1 + rnd_int(segment_key, 'flight_number', 9998))::varchar
        else (1 + rnd_int(segment_key, 'flight_number', 9998))::varchar
    end,
    rnd_pick(segment_key, 'fare_class', ['economy', 'economy', 'economy', 'Economy', 'ECONOMY',
        'business', 'Business', 'premium-economy', 'first  class']),
    rnd_pick(segment_key, 'fare_family', ['Plus', 'plus', 'Flexi', 'Value', 'regular', null, null])
from g_segments;

insert into g_raw_order_passengers
with travellers as (
    select
        o.i, o.order_id, o.customer_id,
        unnest(range(1, o.passenger_count + 1)) as passenger_index
    from g_orders o
)
select
    t.order_id,
    t.passenger_index,
    case when t.passenger_index = 1 and c.customer_id is not null
         and rnd_unit(t.i, 'lead_is_customer') < 0.7 then c.title
         else rnd_pick(t.i * 10 + t.passenger_index, 'title', ['Mr', 'Ms', 'Mrs', 'mr', 'MISS', 'Mstr', '', null]) end,
    case when t.passenger_index = 1 and c.customer_id is not null
         and rnd_unit(t.i, 'lead_is_customer') < 0.7 then c.first_name
         else rnd_pick(t.i * 10 + t.passenger_index, 'first', ['Ann', 'Zoë', 'Seán', 'Liam', 'María', 'Jürgen', 'Yuki', 'Oisín', 'Emma', 'Tom']) end,
    case when t.passenger_index = 1 and c.customer_id is not null
         and rnd_unit(t.i, 'lead_is_customer') < 0.7 then c.last_name
         else rnd_pick(t.i * 10 + t.passenger_index, 'last', ['Murphy', 'Ōtani', 'García', 'Kelly', 'Nowak', 'Smith', 'Müller']) end,
    case when t.passenger_index = 1 and rnd_unit(t.i, 'lead_is_customer') < 0.7 then c.customer_id end
from travellers t
left join g_raw_customers c on c.customer_id = t.customer_id;

insert into raw.order_attributes
with chosen as (
    select
        o.i, o.order_id, o.passenger_count, o.ordered_ts,
        rnd_int(o.i, 'attribute_start', 12) as start_no,
        unnest(range(o.attribute_count)) as attribute_no
    from g_orders o
),
named as (
    select *, (start_no + attribute_no) % 12 as pool_no, i * 10 + attribute_no as k
    from chosen
)
select
    order_id,
    ['Loyalty tier', 'utm_source', 'UTM_CAMPAIGN', 'seat-map viewed', '3ds verified',
     'bags count', 'discount amount', 'trip purpose', 'return date', 'marketing consent',
     'Party size', 'booking device'][pool_no + 1],
    case pool_no
        when 0 then rnd_pick(k, 'v', ['Gold', 'Silver', 'Bronze', 'Platinum', 'none'])
        when 1 then rnd_pick(k, 'v', ['google', 'facebook', 'newsletter', 'direct', 'tiktok'])
        when 2 then rnd_pick(k, 'v', ['summer-sale-2025', 'black friday', 'winter_sun'])
        when 3 then rnd_pick(k, 'v', ['true', 'false', 'TRUE', 'False'])
        when 4 then rnd_pick(k, 'v', ['true', 'true', 'false'])
        when 5 then rnd_int(k, 'v', 4)::varchar
        when 6 then rnd_pick(k, 'v', ['5.50', '10', '0.00', '12.5', '007'])
        when 7 then rnd_pick(k, 'v', ['leisure', 'business', 'Leisure'])
        when 8 then strftime(ordered_ts + to_days(10 + rnd_int(k, 'v', 60)), '%Y-%m-%d')
        when 9 then rnd_pick(k, 'v', ['true', 'false'])
        when 10 then passenger_count::varchar
        else rnd_pick(k, 'v', ['iPhone', 'Android', 'Windows', 'Mac', ''])
    end,
    case pool_no
        when 3 then rnd_pick(k, 'type', ['boolean', 'boolean', 'BOOLEAN', 'Boolean '])
        when 4 then 'boolean'
        when 5 then rnd_pick(k, 'type', ['number', 'number', 'Number ', 'NUMBER'])
        when 6 then 'number'
        when 8 then rnd_pick(k, 'type', ['date', 'Date'])
        when 9 then 'boolean'
        when 10 then 'number'
        else rnd_pick(k, 'type', ['string', 'string', 'string', 'String', ' string'])
    end
from named;

insert into raw.order_line_attributes
select
    order_line_id,
    name_and_type[1],
    case name_and_type[1]
        when 'fare basis' then rnd_pick(order_line_id, 'v', ['KOWEB', 'YFLEX', 'QPLUS'])
        when 'checked in' then rnd_pick(order_line_id, 'v', ['true', 'false', 'FALSE'])
        when 'Weight KG' then rnd_pick(order_line_id, 'v', ['10', '20', '23', '32'])
        when 'seat number' then (1 + rnd_int(order_line_id, 'row', 33))::varchar || rnd_pick(order_line_id, 'seat', ['A', 'C', 'D', 'F'])
        when 'nights' then (1 + rnd_int(order_line_id, 'v', 7))::varchar
        when 'check-in date' then strftime(departure_ts, '%Y-%m-%d')
        else 'yes'
    end,
    name_and_type[2]
from (
    select
        *,
        unnest(case family
            when 'flight' then [['fare basis', 'string'], ['checked in', 'boolean']]
            when 'bag' then [['Weight KG', 'Number']]
            when 'seat' then [['seat number', 'string']]
            when 'hotel' then [['nights', 'number'], ['check-in date', 'date']]
            else [['added by agent', 'string']]
        end) as name_and_type
    from g_lines
    where rnd_unit(order_line_id, 'line_attributes') < 0.2
);
