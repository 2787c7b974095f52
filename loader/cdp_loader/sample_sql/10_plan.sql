-- The plan of the bulk orders: one row per generated order with every choice
-- the later inserts share (its dirty case, time, brand, customer, route, sizes).

create or replace temp table g_airports as
select * from (values
    (0, 'DUB', 0), (1, 'LHR', 0), (2, 'STN', 0), (3, 'MAN', 0), (4, 'CDG', 60),
    (5, 'BCN', 60), (6, 'MAD', 60), (7, 'FCO', 60), (8, 'AMS', 60), (9, 'BER', 60),
    (10, 'WAW', 60), (11, 'LIS', 0), (12, 'FAO', 0), (13, 'PMI', 60), (14, 'ALC', 60),
    (15, 'ATH', 120), (16, 'JFK', -300), (17, 'LAS', -480), (18, 'BOS', -300), (19, 'DXB', 240)
) t(airport_no, code, utc_offset_minutes);

-- range() is read by one thread; a table is scanned by all of them.
create or replace temp table g_order_index as select range as i from range({orders});

create or replace temp table g_customer_index as
select range as c from range(1, greatest(1, {customers}) + 1);

create or replace temp table g_orders as
with picked as (
    select
        i,
        1000 + i as order_id,
        case when rnd_unit(i, 'dirty') < 0.03 then rnd_pick(i, 'kind', [
            -- quarantined when current
            'ref_empty', 'ref_collision', 'ref_collision_24h', 'ordered_at_invalid',
            'status_unmapped', 'status_null', 'brand_missing', 'currency_invalid',
            'currency_null', 'total_null', 'no_lines', 'customer_null', 'customer_unknown',
            'item_status_unmapped', 'line_currency_invalid', 'unit_price_null',
            'product_code_missing', 'line_reference_duplicate', 'line_reference_empty',
            'passenger_type_missing', 'flight_without_segments', 'segment_flight_number_bad',
            'segment_carrier_missing', 'segment_fare_class_null', 'segment_time_invalid',
            -- odd but shipped
            'ref_24h_plus_1s', 'ref_reused', 'channel_unmapped', 'payment_unknown',
            'card_without_brand', 'locale_odd', 'product_type_odd', 'long_product_name',
            'empty_product_fields', 'created_at_odd', 'quantity_null', 'original_price_odd',
            'item_status_null', 'many_attributes', 'attribute_quirks', 'line_attribute_quirks',
            'passenger_nameless', 'passenger_index_dangling'
        ]) else 'clean' end as kind
    from g_order_index
),
timed as (
    select
        *,
        kind in ('ref_collision', 'ref_collision_24h', 'ref_24h_plus_1s', 'ref_reused')
            and i > 0 as copies_reference,
        case when copies_reference then i - 1 else i end as ref_source,
        case when copies_reference then 'us' else order_format(i) end as ts_format,
        order_instant(ref_source) + case
            when not copies_reference then interval 0 second
            when kind = 'ref_collision' then to_seconds(1 + rnd_int(i, 'gap', 86399))
            when kind = 'ref_collision_24h' then interval 24 hour
            when kind = 'ref_24h_plus_1s' then interval 86401 second
            else to_days(30 + rnd_int(i, 'gap', 300))
        end as ordered_ts,
        rnd_pick(i, 'brand', [
            {'domain': 'spinair.com', 'currency': 'EUR', 'locales': ['en-IE', 'en-IE', 'es-ES', 'fr-FR', 'fr_FR', 'de-DE', 'it-IT'], 'homes': [0, 4, 5, 6, 7]},
            {'domain': 'spinair.com', 'currency': 'EUR', 'locales': ['en-IE', 'en-GB', 'de', 'nl-NL'], 'homes': [0, 8, 9, 11]},
            {'domain': 'spinair.com', 'currency': 'EUR', 'locales': ['en-IE', 'es-ES', 'it-IT'], 'homes': [0, 5, 13, 14]},
            {'domain': 'spinair.co.uk', 'currency': 'GBP', 'locales': ['en-GB'], 'homes': [1, 2, 3]},
            {'domain': 'spinair.co.uk', 'currency': 'GBP', 'locales': ['en-GB', 'en-GB', 'pl-PL'], 'homes': [1, 2, 3]},
            {'domain': 'spinholidays.com', 'currency': 'EUR', 'locales': ['en-IE', 'de-DE', 'nl-NL'], 'homes': [0, 8, 9]},
            {'domain': 'spinholidays.com', 'currency': 'GBP', 'locales': ['en-GB'], 'homes': [1, 3]},
            {'domain': 'spinair.ie', 'currency': 'EUR', 'locales': ['en-IE', 'ga-IE'], 'homes': [0]},
            {'domain': 'spinair.us', 'currency': 'USD', 'locales': ['en-US', 'es-US'], 'homes': [16, 18]},
            {'domain': 'spinair.pl', 'currency': 'PLN', 'locales': ['pl-PL', 'pl'], 'homes': [10]},
            {'domain': 'spinair.pt', 'currency': 'EUR', 'locales': ['pt-PT', 'pt-BR'], 'homes': [11, 12]}
        ]) as brand,
        rnd_pick(i, 'status', [
            'confirmed', 'confirmed', 'confirmed', 'confirmed', 'confirmed', 'confirmed',
            'confirmed', 'CONFIRMED', 'CONFIRMED', 'Confirmed', ' confirmed ', 'ticketed',
            'ticketed', 'ticketed', 'TICKETED', 'purchased', 'purchased', 'paid', 'completed',
            'completed', 'cancelled', 'cancelled', 'CANCELED', 'void', 'declined',
            'payment_failed', 'refunded', 'refunded', 'pending', 'awaiting_payment',
            'reserved', 'on_hold', 'held'
        ]) as status_code
    from picked
),
shaped as (
    select
        *,
        lower(trim(status_code)) = 'refunded' as is_refund,
        rnd_pick(i, 'home', brand.homes) as origin_no,
        greatest(1, {customers}) as customer_count
    from timed
)
select
    *,
    order_text(ordered_ts, ts_format, offset_minutes) as ordered_at_text
from (
select
    i,
    order_id,
    kind,
    ref_source,
    booking_ref(ref_source) as reference,
    ts_format,
    ordered_ts,
    case when ts_format in ('ms_z', 'us', 'z') then 0
         else rnd_pick(i, 'offset', [0, 60, 60, 60, 120, -300, -480]) end as offset_minutes,
    brand.domain as brand_domain,
    brand.currency as currency,
    rnd_pick(i, 'locale', brand.locales) as locale,
    'C' || lpad((1 + rnd_int(i, 'customer', customer_count))::varchar, 8, '0') as customer_id,
    status_code,
    is_refund,
    rnd_pick(i, 'channel', [
        'web', 'web', 'web', 'web', 'web', 'web', 'web', 'web', 'website', 'desktop', 'WEB',
        ' Web ', 'mweb', 'mweb', 'mobile_web', 'app_ios', 'app_ios', 'app_ios', 'app_android',
        'app_android', 'App', 'call_centre', 'call_center', 'phone', 'kiosk', 'airport_kiosk',
        'branch', 'store', 'gds', 'ota', 'ota', 'partner', 'offline'
    ]) as sales_channel,
    rnd_pick(i, 'payment', [
        'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card', 'card',
        'card', 'Card', 'CARD', 'paypal', 'paypal', 'PayPal', 'voucher', 'cash', 'atm'
    ]) as payment_method,
    rnd_pick(i, 'card', [
        'visa', 'visa', 'visa', 'visa', 'visa', 'VISA', 'Visa', 'mastercard', 'mastercard',
        'mastercard', 'MasterCard', 'mc', 'MC', 'amex', 'American Express', 'diners'
    ]) as card_brand,
    rnd_unit(i, 'test') < 0.005 as is_test,
    rnd_unit(i, 'deleted') < 0.01 as is_deleted,
    case when kind = 'no_lines' then 0 else 1 + rnd_int(i, 'lines', 4) end as line_count,
    case when rnd_unit(i, 'pax') < 0.78 then 1
         when rnd_unit(i, 'pax') < 0.93 then 2
         when rnd_unit(i, 'pax') < 0.98 then 3
         else 4 end as passenger_count,
    rnd_int(i, 'attributes', 7) as attribute_count,
    case when rnd_unit(i, 'versions') < 0.04 then 2
         when rnd_unit(i, 'versions') < 0.05 then 3
         else 1 end as version_count,
    rnd_unit(i, 'tie') < 0.002 as has_tied_version,
    origin_no,
    (origin_no + 1 + rnd_int(i, 'destination', 19)) % 20 as destination_no,
    ordered_ts + to_days(7 + rnd_int(i, 'departure', 200))
        + to_minutes(rnd_int(i, 'departure_minute', 96) * 15 - 300) as departure_ts
from shaped
);
