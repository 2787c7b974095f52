{#- The two halves of a batch line that every export builds the same way:
    the ref is the UUID v5 of 'cdp-orders:order:<mode>:<value>' (its SHA-1
    is taken once, in a column of its own), and the line is the envelope
    ref, schema, mode, value in that order. -#}
{% macro batch_record_digest(mode, value_json) -%}
    {{ uuid_v5_url_digest("'cdp-orders:order:' || " ~ mode ~ " || ':' || " ~ value_json) }}
{%- endmacro %}

{% macro batch_record_line(ref, mode, value_json) -%}
    {{ json_object([
        ('ref', json_formatted_text(ref)),
        ('schema', "'\"order\"'"),
        ('mode', json_formatted_text(mode)),
        ('value', value_json),
    ]) }}
{%- endmacro %}

{#- An order delete's value: the referenceId and orderedAt CDP matches on. -#}
{% macro order_delete_value(reference_id, ordered_at) -%}
    {{ json_object([
        ('referenceId', json_string(reference_id)),
        ('orderedAt', json_formatted_text(format_utc_millis(ordered_at))),
    ]) }}
{%- endmacro %}
