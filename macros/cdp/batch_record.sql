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

{#- True when CDP's last answer about the order was a rejection of this very
    record: sending it again unchanged would only be rejected again. -#}
{% macro rejected_as_it_is(held, record) -%}
    coalesce(
        {{ held }}.last_outcome = 'rejected'
        and {{ held }}.last_record_hash = {{ record }}.record_hash,
        false
    )
{%- endmacro %}

{#- The file order of a set of records, as (mode, order_id, seq): deletes
    first, then inserts, each by order_id. Numbered over the keys alone and
    joined back, since a window over the records themselves would sort every
    line once more before the final sort (8 of 16 s at 1M orders). bigint as
    the contracts say: Spark's row_number is an int. -#}
{% macro batch_file_order(delete_keys, insert_keys) -%}
    select
        mode,
        order_id,
        cast(row_number() over (
            order by case mode when 'delete' then 0 else 1 end, order_id
        ) as bigint) as seq
    from (
        select
            'delete' as mode,
            order_id
        from {{ delete_keys }}
        union all
        select
            'insert' as mode,
            order_id
        from {{ insert_keys }}
    ) as record_keys
{%- endmacro %}
