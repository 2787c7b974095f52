-- Pseudo-randomness and text helpers for the sample warehouse. Every random
-- choice is hash(seed, key, salt): the key names the row (an order index, an
-- order_line_id, a customer number), the salt names the decision, so each
-- decision is independent of every other one and of the order rows are made in.
-- {seed} and {orders} are filled in by sample_warehouse.py (integers only).

create or replace temp macro rnd_int(k, salt, m) as
    (hash({seed}, k, salt) % (m)::ubigint)::bigint;

create or replace temp macro rnd_unit(k, salt) as
    (hash({seed}, k, salt) % 1000000::ubigint)::double / 1000000;

-- One element of a list, uniformly: repeat an element to weight it.
create or replace temp macro rnd_pick(k, salt, xs) as
    xs[1 + rnd_int(k, salt, len(xs))];

-- '+01:00', '+0100', '+01' or 'Z' for an offset in minutes (whole hours
-- when negative). Whole hours, the bulk's only kind, come from lists: printf
-- costs as much as strftime at a million rows.
create or replace temp macro offset_text(mins, style) as
    case
        when style = 'Z' then 'Z'
        when mins % 60 <> 0 or mins < -720 or mins > 840 then
            case style
                when 'colon' then printf('%+03d:%02d', mins // 60, abs(mins) % 60)
                when 'basic' then printf('%+03d%02d', mins // 60, abs(mins) % 60)
                else printf('%+03d', mins // 60)
            end
        when style = 'colon' then
        ['-12:00', '-11:00', '-10:00', '-09:00', '-08:00', '-07:00', '-06:00', '-05:00',
         '-04:00', '-03:00', '-02:00', '-01:00', '+00:00', '+01:00', '+02:00', '+03:00',
         '+04:00', '+05:00', '+06:00', '+07:00', '+08:00', '+09:00', '+10:00', '+11:00',
         '+12:00', '+13:00', '+14:00'][mins // 60 + 13]
        when style = 'basic' then
        ['-1200', '-1100', '-1000', '-0900', '-0800', '-0700', '-0600', '-0500', '-0400',
         '-0300', '-0200', '-0100', '+0000', '+0100', '+0200', '+0300', '+0400', '+0500',
         '+0600', '+0700', '+0800', '+0900', '+1000', '+1100', '+1200', '+1300', '+1400'][mins // 60 + 13]
        else
        ['-12', '-11', '-10', '-09', '-08', '-07', '-06', '-05', '-04', '-03', '-02', '-01',
         '+00', '+01', '+02', '+03', '+04', '+05', '+06', '+07', '+08', '+09', '+10', '+11',
         '+12', '+13', '+14'][mins // 60 + 13]
    end;

-- Local wall-clock text; constant strftime formats, the costly part at scale.
create or replace temp macro local_text(l, sep, seconds, frac_digits) as
    case
        when sep = ' ' then strftime(l, '%Y-%m-%d %H:%M:%S')
        when not seconds then strftime(l, '%Y-%m-%dT%H:%M')
        when frac_digits = 0 then strftime(l, '%Y-%m-%dT%H:%M:%S')
        when frac_digits = 3 then strftime(l, '%Y-%m-%dT%H:%M:%S.%g')
        when frac_digits = 6 then strftime(l, '%Y-%m-%dT%H:%M:%S.%f')
        else strftime(l, '%Y-%m-%dT%H:%M:%S.%f')[1:20 + frac_digits]
    end;

-- ISO 8601 text of a UTC instant written in local time at offset `mins`.
create or replace temp macro iso_text(utc_ts, mins, style, sep, seconds, frac_digits) as
    local_text(utc_ts + to_minutes(mins), sep, seconds, frac_digits) || offset_text(mins, style);

-- Session TimeZone is UTC (set by sample_warehouse.py), so this cast reads the
-- timestamp as UTC.
create or replace temp macro to_utc(ts) as ts::timestamptz;

create or replace temp macro ref_char(x, d) as
    substr('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 1 + ((x >> (5 * d)) & 31)::int, 1);

create or replace temp macro ref_code(x) as
    ref_char(x, 0) || ref_char(x, 1) || ref_char(x, 2)
    || ref_char(x, 3) || ref_char(x, 4) || ref_char(x, 5);

create or replace temp macro booking_ref(k) as
    ref_code(((k * 1103515245 + hash({seed}, 'refs') % 1073741824::ubigint)
              % 1073741824)::bigint);

-- The instant an order's ordered_at text stands for: whole seconds, minutes or
-- fractions, as its text format can carry them.
create or replace temp macro order_format(k) as
    rnd_pick(k, 'ts_format', [
        'ms_z', 'ms_z', 'ms_z', 'ms_z', 'ms_z', 'ms_z', 'ms_z', 'ms_z',
        'colon', 'colon', 'colon', 'colon', 'colon', 'colon',
        'basic', 'basic', 'hours', 'space', 'us', 'frac1', 'nosec', 'z'
    ]);

create or replace temp macro order_instant(k) as
    timestamp '2024-01-01 00:00:00'
    + to_seconds(
        case when order_format(k) = 'nosec' then rnd_int(k, 'ts', 730 * 86400) // 60 * 60
             else rnd_int(k, 'ts', 730 * 86400) end)
    + to_microseconds(
        case order_format(k)
            when 'us' then rnd_int(k, 'us', 1000000)
            when 'ms_z' then rnd_int(k, 'us', 1000000) // 1000 * 1000
            when 'frac1' then rnd_int(k, 'us', 1000000) // 100000 * 100000
            else 0
        end);

create or replace temp macro order_text(ts, fmt, mins) as
    case fmt
        when 'ms_z' then iso_text(ts, 0, 'Z', 'T', true, 3)
        when 'colon' then iso_text(ts, mins, 'colon', 'T', true, 0)
        when 'basic' then iso_text(ts, mins, 'basic', 'T', true, 0)
        when 'hours' then iso_text(ts, mins, 'hours', 'T', true, 0)
        when 'space' then iso_text(ts, mins, 'colon', ' ', true, 0)
        when 'us' then iso_text(ts, 0, 'Z', 'T', true, 6)
        when 'frac1' then iso_text(ts, mins, 'colon', 'T', true, 1)
        when 'nosec' then iso_text(ts, mins, 'colon', 'T', false, 0)
        else iso_text(ts, 0, 'Z', 'T', true, 0)
    end;
