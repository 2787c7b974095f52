-- The plan of the bulk order lines and flight segments.

-- Shared by the order totals and the lines, so that totals add up.
create or replace temp macro line_quantity(line_id, family) as
    case family when 'hotel' then 1 + rnd_int(line_id, 'quantity', 7)
                when 'car' then 1 + rnd_int(line_id, 'quantity', 10)
                when 'bag' then 1 + rnd_int(line_id, 'quantity', 2)
                else 1 end;

create or replace temp macro line_unit_price(line_id, price_min, price_max, is_refund) as
    ((price_min * 100 + rnd_int(line_id, 'price', (price_max - price_min) * 100))
     * case when is_refund then -1 else 1 end / 100)::decimal(18, 2);

create or replace temp table g_products as
with catalogue as (
    select * from (values
        (1, 'flight', 'flight', true, 19, 480, 16),
        (2, 'FLIGHT', 'flight', true, 19, 480, 2),
        (3, 'bag', 'bag', true, 15, 60, 10),
        (4, 'Checked Bag', 'bag', true, 25, 60, 3),
        (5, 'baggage', 'bag', true, 15, 45, 2),
        (6, 'seat', 'seat', true, 4, 30, 10),
        (7, 'seat upgrade', 'seat', true, 15, 80, 2),
        (8, 'hotel', 'hotel', false, 60, 400, 7),
        (9, 'car_hire', 'car', false, 25, 90, 4),
        (10, 'car', 'car', false, 25, 90, 1),
        (11, 'insurance', 'insurance', true, 9, 40, 7),
        (12, 'Insurance ', 'insurance', true, 9, 40, 1),
        (13, 'meal', 'meal', true, 6, 15, 5),
        (14, 'transfer', 'transfer', false, 10, 60, 4),
        (15, 'lounge', 'lounge', true, 25, 45, 3),
        (16, 'parking', 'parking', false, 20, 120, 3),
        (17, 'fee', 'fee', false, 2, 15, 4),
        (18, 'fees', 'fee', false, 2, 15, 1),
        (19, 'taxi', 'taxi', false, 15, 70, 1),
        (20, 'activity', 'activity', false, 20, 150, 2),
        (21, 'upgrade', 'upgrade', true, 20, 100, 1),
        (22, 'car seat', 'car seat', false, 5, 25, 1)
    ) t(product_no, product_type, family, per_passenger, price_min, price_max, weight)
)
select
    (row_number() over (order by product_no, copy) - 1)::bigint as slot,
    product_type, family, per_passenger, price_min, price_max
from catalogue, range(weight) r(copy);

create or replace temp table g_lines as
with numbered as (
    select
        o.*,
        unnest(range(1, o.line_count + 1)) as line_no
    from g_orders o
),
chosen as (
    select
        n.*,
        n.order_id * 100 + n.line_no as order_line_id,
        (select count(*) from g_products) as slot_count
    from numbered n
)
select
    c.i, c.order_id, c.kind, c.line_no, c.order_line_id, c.reference, c.passenger_count,
    c.is_refund, c.status_code, c.currency, c.ordered_ts, c.ordered_at_text,
    case when c.line_no = 1 then 'flight' else p.product_type end as product_type,
    case when c.line_no = 1 then 'flight' else p.family end as family,
    case when c.line_no = 1 then true else p.per_passenger end as per_passenger,
    case when c.line_no = 1 then 19 else p.price_min end as price_min,
    case when c.line_no = 1 then 480 else p.price_max end as price_max,
    -- the first flight goes out, any later one comes back
    case when c.line_no = 1 then a.code else b.code end as from_code,
    case when c.line_no = 1 then b.code else a.code end as to_code,
    case when c.line_no = 1 then c.origin_no else c.destination_no end as from_no,
    case when c.line_no = 1 then c.destination_no else c.origin_no end as to_no,
    c.departure_ts + case when c.line_no = 1 then interval 0 day
                          else to_days(3 + rnd_int(c.order_line_id, 'stay', 12)) end
        as departure_ts,
    rnd_pick(c.order_line_id, 'airline', [
        {'code': 'FR', 'name': 'Ryanair'}, {'code': 'FR', 'name': 'Ryanair'},
        {'code': 'EI', 'name': 'Aer Lingus'}, {'code': 'EI', 'name': 'Aer Lingus'},
        {'code': 'U2', 'name': 'easyJet'}, {'code': 'BA', 'name': 'British Airways'},
        {'code': 'IB', 'name': 'Iberia'}, {'code': 'AF', 'name': 'Air France'},
        {'code': 'VY', 'name': 'Vueling'}, {'code': 'LH', 'name': 'Lufthansa'},
        {'code': 'AA', 'name': 'American Airlines'}, {'code': 'TP', 'name': 'TAP Air Portugal'},
        {'code': 'W6', 'name': 'Wizz Air'}
    ]) as airline,
    case when rnd_unit(c.order_line_id, 'segments') < 0.5 then 1
         when rnd_unit(c.order_line_id, 'segments') < 0.9 then 2
         else 3 end as segment_count
from chosen c
join g_products p on p.slot = rnd_int(c.order_line_id, 'product', c.slot_count)
join g_airports a on a.airport_no = c.origin_no
join g_airports b on b.airport_no = c.destination_no;

create or replace temp table g_segments as
with numbered as (
    select
        l.order_line_id, l.i, l.kind, l.from_no, l.to_no, l.departure_ts, l.airline,
        l.segment_count,
        list_filter([0, 1, 4, 6, 8, 9, 16, 19], x -> x != l.from_no and x != l.to_no) as hubs,
        unnest(range(1, l.segment_count + 1)) as segment_number
    from g_lines l
    where l.family = 'flight'
),
legs as (
    select
        *,
        order_line_id * 10 + segment_number as segment_key,
        case when segment_number = 1 then from_no
             else hubs[1 + (rnd_int(order_line_id, 'hub', 5) + segment_number - 2) % len(hubs)]
        end as leg_from_no,
        case when segment_number = segment_count then to_no
             else hubs[1 + (rnd_int(order_line_id, 'hub', 5) + segment_number - 1) % len(hubs)]
        end as leg_to_no,
        departure_ts + to_hours((segment_number - 1) * 10) as leg_departure_ts
    from numbered
)
select
    g.*,
    a.code as origin, a.utc_offset_minutes as origin_offset,
    b.code as destination, b.utc_offset_minutes as destination_offset,
    g.leg_departure_ts + to_minutes(50 + rnd_int(g.segment_key, 'duration', 420)) as leg_arrival_ts
from legs g
join g_airports a on a.airport_no = g.leg_from_no
join g_airports b on b.airport_no = g.leg_to_no;
