-- Break the bulk orders the plan picked for a dirty case (g_orders.kind), one
-- statement per case. Every version of an order is broken alike, so the
-- current one is. Lines are broken on their first line (always a flight).

create or replace temp macro kind_orders(wanted) as table
    select order_id from g_orders where kind = wanted;

create or replace temp macro kind_first_lines(wanted) as table
    select order_id * 100 + 1 as order_line_id from g_orders where kind = wanted;

update g_raw_orders set booking_reference = rnd_pick(order_id, 'empty', ['', '   '])
where order_id in (from kind_orders('ref_empty'));

update g_raw_orders o set ordered_at = rnd_pick(o.order_id, 'unparseable', [
        strftime(g.ordered_ts, '%Y-%m-%dT%H:%M:%S'),           -- no offset
        strftime(g.ordered_ts, '%Y-%m-%d'),                    -- a date alone
        strftime(g.ordered_ts, '%Y-%m-%dT%H:%M:%S.%gz'),       -- lower-case z
        strftime(g.ordered_ts, '%Y%m%dT%H%M%SZ')               -- the basic format
    ])
from g_orders g
where g.order_id = o.order_id and g.kind = 'ordered_at_invalid';

update g_raw_orders set status = rnd_pick(order_id, 'unmapped', ['shipped', 'On Request', 'PARTIAL', 'unknown'])
where order_id in (from kind_orders('status_unmapped'));

update g_raw_orders set status = rnd_pick(order_id, 'null_status', [null, '', '  '])
where order_id in (from kind_orders('status_null'));

update g_raw_orders set brand_domain = rnd_pick(order_id, 'no_brand', [null, '', '  '])
where order_id in (from kind_orders('brand_missing'));

update g_raw_orders set currency = rnd_pick(order_id, 'bad_currency', ['XXY', 'EURO', 'e', '€'])
where order_id in (from kind_orders('currency_invalid'));

update g_raw_orders set currency = rnd_pick(order_id, 'no_currency', [null, '', ' '])
where order_id in (from kind_orders('currency_null'));

update g_raw_orders set total_amount = null
where order_id in (from kind_orders('total_null'));

update g_raw_orders set customer_id = null
where order_id in (from kind_orders('customer_null'));

update g_raw_orders set customer_id = 'C9' || lpad(order_id::varchar, 8, '0')
where order_id in (from kind_orders('customer_unknown'));

update g_raw_orders set sales_channel = rnd_pick(order_id, 'channel', ['affiliate', 'TV', 'carrier_pigeon', null, ''])
where order_id in (from kind_orders('channel_unmapped'));

update g_raw_orders set payment_method = rnd_pick(order_id, 'payment', ['bitcoin', 'bank_transfer', null, '']),
    card_brand = null
where order_id in (from kind_orders('payment_unknown'));

update g_raw_orders set payment_method = 'card', card_brand = rnd_pick(order_id, 'brand', [null, '', 'discover', 'JCB'])
where order_id in (from kind_orders('card_without_brand'));

update g_raw_orders set locale = rnd_pick(order_id, 'locale', ['', null, 'xx-YY', 'english', 'pt-BR'])
where order_id in (from kind_orders('locale_odd'));

update g_raw_order_lines set status = rnd_pick(order_line_id, 'unmapped', ['in_progress', 'shipped', 'WAITLISTED'])
where order_line_id in (from kind_first_lines('item_status_unmapped'));

update g_raw_order_lines set status = rnd_pick(order_line_id, 'null_status', [null, '', '  '])
where order_line_id in (from kind_first_lines('item_status_null'));

update g_raw_order_lines set line_currency = rnd_pick(order_line_id, 'bad_currency', ['XXY', null, '', 'eu'])
where order_line_id in (from kind_first_lines('line_currency_invalid'));

update g_raw_order_lines set unit_price = null
where order_line_id in (from kind_first_lines('unit_price_null'));

update g_raw_order_lines set product_code = rnd_pick(order_line_id, 'no_code', [null, '', '   '])
where order_line_id in (from kind_first_lines('product_code_missing'));

update g_raw_order_lines set line_reference = regexp_replace(line_reference, '-[0-9]+$', '-2')
where order_id in (from kind_orders('line_reference_duplicate'))
  and order_line_id % 100 in (1, 2);

update g_raw_order_lines set line_reference = rnd_pick(order_line_id, 'empty_ref', ['', '  '])
where order_line_id in (from kind_first_lines('line_reference_empty'));

update g_raw_order_lines set passenger_type = rnd_pick(order_line_id, 'bad_pax', [null, '', 'senior', 'YTH'])
where order_line_id in (from kind_first_lines('passenger_type_missing'));

update g_raw_order_lines set passenger_index = rnd_pick(order_line_id, 'dangling', [null, 0, 9])
where order_line_id in (from kind_first_lines('passenger_index_dangling'));

update g_raw_order_lines set product_type = rnd_pick(order_line_id, 'odd_type', ['car hire', 'gift card', 'Spa Treatment'])
where order_id in (from kind_orders('product_type_odd')) and order_line_id % 100 = 2;

update g_raw_order_lines set product_name = product_name || ' ' || repeat('with extras and flexible changes ', 5)
where order_line_id in (from kind_first_lines('long_product_name'));

update g_raw_order_lines set
    product_name = rnd_pick(order_line_id, 'name', [null, '', '  ']),
    product_description = null,
    vendor = rnd_pick(order_line_id, 'vendor', [null, ''])
where order_line_id in (from kind_first_lines('empty_product_fields'));

update g_raw_order_lines set created_at = rnd_pick(order_line_id, 'created', [null, 'yesterday', created_at[1:10], ''])
where order_line_id in (from kind_first_lines('created_at_odd'));

update g_raw_order_lines set quantity = null
where order_line_id in (from kind_first_lines('quantity_null'));

update g_raw_order_lines set
    original_unit_price = case when order_line_id % 3 = 1 then null else unit_price end,
    original_currency = case order_line_id % 3 when 0 then 'ZZZ' when 1 then 'USD' else null end
where order_line_id in (from kind_first_lines('original_price_odd'));

delete from g_raw_flight_segments
where order_line_id in (from kind_first_lines('flight_without_segments'));

update g_raw_flight_segments set flight_number = rnd_pick(order_line_id, 'bad_number', ['0', carrier, null, '', '0000'])
where order_line_id in (from kind_first_lines('segment_flight_number_bad')) and segment_number = 1;

update g_raw_flight_segments set carrier = rnd_pick(order_line_id, 'no_carrier', [null, '', ' '])
where order_line_id in (from kind_first_lines('segment_carrier_missing')) and segment_number = 1;

update g_raw_flight_segments set fare_class = rnd_pick(order_line_id, 'no_fare', [null, ''])
where order_line_id in (from kind_first_lines('segment_fare_class_null')) and segment_number = 1;

update g_raw_flight_segments set departure_at = rnd_pick(order_line_id, 'bad_time', [departure_at[1:16], departure_at[1:10], 'TBA'])
where order_line_id in (from kind_first_lines('segment_time_invalid')) and segment_number = 1;

update g_raw_order_passengers set title = null, first_name = rnd_pick(order_id, 'no_name', [null, '', ' ']), last_name = null
where order_id in (from kind_orders('passenger_nameless')) and passenger_index = 1;

insert into raw.order_attributes
select o.order_id, 'custom field ' || lpad(n::varchar, 2, '0'), (n * 7)::varchar, 'number'
from kind_orders('many_attributes') o, range(1, 61) t(n);

insert into raw.order_attributes
select o.order_id, a.name, a.value, a.value_type
from kind_orders('attribute_quirks') o, (values
    ('utm source', 'duplicate-of-utm_source', 'string'),
    ('---', 'dropped', 'string'),
    ('miles earned', '1e5', 'number'),
    ('score', 'abc', 'number'),
    ('opted in', 'yes', 'boolean'),
    ('travel date', '2025-02-30', 'date'),
    ('widget', '{"a": 1}', 'json'),
    ('note', null, 'string'),
    ('empty note', '', 'string'),
    ('refund amount', '-0.00', 'number')
) a(name, value, value_type);

insert into raw.order_line_attributes
select o.order_line_id, a.name, a.value, a.value_type
from kind_first_lines('line_attribute_quirks') o, (values
    ('Fare Basis', 'KOWEB', 'string'),
    ('fare_basis', 'YFLEX', 'string'),
    ('!!!', 'dropped', 'string'),
    ('bag weight', '20kg', 'number'),
    ('priority', 'Y', 'boolean'),
    ('legroom', null, 'string'),
    ('seat row', '07', 'NUMBER ')
) a(name, value, value_type);

-- Customers that cannot be matched to a guest: no valid email, no identifier.
update g_raw_customers set email = rnd_pick(customer_id, 'bad_email', ['n/a', null, 'ann(at)example.com'])
where rnd_unit(customer_id, 'unmatchable') < 0.003;

delete from g_raw_customer_identifiers
where customer_id in (select customer_id from g_raw_customers
                      where rnd_unit(customer_id, 'unmatchable') < 0.003);

-- Identifier quirks: the same identity twice with different expiries (one
-- never expiring), and ones whose provider or id is only spaces.
insert into g_raw_customer_identifiers
select customer_id, provider, external_id,
       case when expires_at is null then timestamptz '2024-01-01 00:00:00+00' end
from g_raw_customer_identifiers
where rnd_unit(customer_id, 'duplicate_identifier') < 0.005;

insert into g_raw_customer_identifiers
select customer_id,
       case when rnd_unit(customer_id, 'blank_side') < 0.5 then '  ' else 'CRM' end,
       case when rnd_unit(customer_id, 'blank_side') < 0.5 then 'CRM-X' else '   ' end,
       null
from g_raw_customers
where rnd_unit(customer_id, 'blank_identifier') < 0.003;
