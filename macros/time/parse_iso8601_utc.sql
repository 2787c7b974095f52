{#- The ISO 8601 forms raw_warehouse.md accepts: a date, 'T' or a space, HH:MM,
    optional :SS with an optional 1-6 digit fraction, then 'Z' or an offset
    +HH, +HHMM or +HH:MM. Anything else (no offset, a date alone, 'z', the
    basic format) does not parse. -#}
{% macro iso8601_pattern() -%}
    ^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)$
{%- endmacro %}

{#- The UTC instant of an ISO 8601 text with an offset, cut (not rounded) to
    milliseconds, as a timestamp without zone; null when the text does not
    parse (including impossible dates such as 2025-02-30). -#}
{% macro parse_iso8601_utc(text) -%}
    {{ return(adapter.dispatch('parse_iso8601_utc', 'cdp_orders')(text)) }}
{%- endmacro %}

{% macro duckdb__parse_iso8601_utc(text) -%}
    case when regexp_full_match({{ text }}, '{{ iso8601_pattern() }}') then
        date_trunc('millisecond', timezone('UTC', try_cast(
            {#- seconds when missing, then every offset as +HH:MM -#}
            regexp_replace(regexp_replace(regexp_replace(
                {{ text }},
                '^(.{16})([Z+-])', '\1:00\2'),
                '([+-][0-9]{2})([0-9]{2})$', '\1:\2'),
                '([+-][0-9]{2})$', '\1:00')
            as timestamptz)))
    end
{%- endmacro %}

{#- PostgreSQL has no try_cast, and its casts fail on 2025-02-30: the day is
    checked against the length of its month first (year 0 is no date). The
    offset is subtracted by hand, so that any offset the pattern allows
    works. -#}
{% macro postgres__parse_iso8601_utc(text) -%}
    {%- set offset_parts = "regexp_match(" ~ text ~ ", '([+-])([0-9]{2}):?([0-9]{2})?$')" -%}
    case when {{ text }} ~ '{{ iso8601_pattern() }}' and {{ postgres_is_calendar_date('substr(' ~ text ~ ', 1, 10)') }} then
        date_trunc('milliseconds',
            cast(regexp_replace({{ text }}, '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$', '') as timestamp)
            - coalesce(
                case ({{ offset_parts }})[1] when '-' then -1 else 1 end
                * (cast(({{ offset_parts }})[2] as integer) * 60
                    + coalesce(cast(({{ offset_parts }})[3] as integer), 0)),
                0
            ) * interval '1 minute'
        )
    end
{%- endmacro %}

{#- A 'YYYY-MM-DD' text (month and day already in range) that is a day of
    the calendar: the day is at most the length of its month. -#}
{% macro postgres_is_calendar_date(date_text) -%}
    (substr({{ date_text }}, 1, 4) <> '0000'
        and cast(substr({{ date_text }}, 9, 2) as integer) <= extract(day from
            cast(substr({{ date_text }}, 1, 7) || '-01' as date) + interval '1 month' - interval '1 day'
        ))
{%- endmacro %}

{#- A 'YYYY-MM-DD' text as a date; null when it is not a day of the calendar. -#}
{% macro try_cast_iso_date(text) -%}
    {{ return(adapter.dispatch('try_cast_iso_date', 'cdp_orders')(text)) }}
{%- endmacro %}

{% macro duckdb__try_cast_iso_date(text) -%}
    try_cast({{ text }} as date)
{%- endmacro %}

{% macro postgres__try_cast_iso_date(text) -%}
    case
        when {{ text }} ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
            and {{ postgres_is_calendar_date(text) }}
            then cast({{ text }} as date)
    end
{%- endmacro %}

{#- As on DuckDB, with Java's $1 for a group in a replacement. -#}
{% macro spark__parse_iso8601_utc(text) -%}
    case when {{ text }} rlike '{{ iso8601_pattern() }}' then
        date_trunc('MILLISECOND', try_cast(
            regexp_replace(regexp_replace(regexp_replace(
                {{ text }},
                '^(.{16})([Z+-])', '$1:00$2'),
                '([+-][0-9]{2})([0-9]{2})$', '$1:$2'),
                '([+-][0-9]{2})$', '$1:00')
            as timestamp))
    end
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__parse_iso8601_utc(text) -%}
    {{ exceptions.raise_compiler_error('parse_iso8601_utc is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- Spark runs the same SQL as DuckDB. -#}
{% macro spark__try_cast_iso_date(text) -%}
    {{ return(duckdb__try_cast_iso_date(text)) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__try_cast_iso_date(text) -%}
    {{ exceptions.raise_compiler_error('try_cast_iso_date is not implemented for ' ~ target.type) }}
{%- endmacro %}
