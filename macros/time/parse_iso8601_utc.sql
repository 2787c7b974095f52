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

{% macro default__parse_iso8601_utc(text) -%}
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
