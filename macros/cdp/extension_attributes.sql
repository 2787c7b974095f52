{#- The CDP data extension of each owner (an order or an order line) from its
    free-form attributes, by the rules of raw_warehouse.md "order extension":
    names in camelCase; values typed by value_type; in this order, attributes
    whose value is null or does not parse, or whose name is empty, are
    dropped; of those sharing a name the first by stored name, then value
    (NULL last), wins; past the first max_extension_attributes by name the
    rest are dropped. Every drop is counted. One row per owner that has any
    attribute. `sliced`: the model is a sliced_table by `owner_key`; `touched`:
    the owners a nightly build rebuilds (touched_orders_filter). -#}
{% macro extension_attributes(attributes_relation, owner_key, sliced=false, touched='true') -%}

with

attributes as (
    select * from {{ attributes_relation }}
    where
        {%- if sliced %} {{ build_slice_filter(owner_key) }} and{% endif %}
        {{ touched }}
),

typed as (
    select
        {{ owner_key }},
        attribute_name,
        attribute_value,
        {{ camel_case('attribute_name') }} as normalised_name,
        case value_type
            -- Strings are the text as it is: not trimmed, and '' is a value.
            when 'string' then {{ json_string('attribute_value') }}
            when 'number' then {{ json_decimal_from_text(trim_spaces('attribute_value')) }}
            when 'boolean' then
                case {{ lookup_key('attribute_value') }}
                    when 'true' then 'true'
                    when 'false' then 'false'
                end
            when 'date' then
                '"' || {{ format_utc_millis(
                    "coalesce(
                        case when " ~ regexp_full_match(trim_spaces('attribute_value'), "'[0-9]{4}-[0-9]{2}-[0-9]{2}'") ~ "
                            then cast(" ~ try_cast_iso_date(trim_spaces('attribute_value')) ~ " as timestamp)
                        end,
                        " ~ parse_iso8601_utc(trim_spaces('attribute_value')) ~ "
                    )"
                ) }} || '"'
        end as json_value
    from attributes
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by {{ owner_key }}, normalised_name
            order by attribute_name, attribute_value nulls last
        ) as name_rank
    from typed
    where json_value is not null and normalised_name <> ''
),

positioned as (
    select
        *,
        row_number() over (
            partition by {{ owner_key }}
            order by normalised_name
        ) as name_position
    from deduplicated
    where name_rank = 1
),

kept as (
    select * from positioned
    where name_position <= {{ var('max_extension_attributes') }}
),

extensions as (
    select
        {{ owner_key }},
        count(*) as attributes_sent,
        '[{"name":"ext","key":"default",'
        || {{ ordered_string_agg("'\"' || normalised_name || '\":' || json_value", "','", 'normalised_name') }}
        || '}]' as extensions_json
    from kept
    group by {{ owner_key }}
),

drops as (
    select
        {{ owner_key }},
        count(*) filter (where json_value is null) as attributes_dropped_invalid_value,
        count(*) filter (
            where json_value is not null and normalised_name = ''
        ) as attributes_dropped_empty_name
    from typed
    group by {{ owner_key }}
),

later_drops as (
    select
        {{ owner_key }},
        count(*) filter (where name_rank > 1) as attributes_dropped_duplicate_name
    from deduplicated
    group by {{ owner_key }}
),

over_limit as (
    select
        {{ owner_key }},
        count(*) filter (
            where name_position > {{ var('max_extension_attributes') }}
        ) as attributes_dropped_over_limit
    from positioned
    group by {{ owner_key }}
),

final as (
    select
        drops.{{ owner_key }},
        extensions.extensions_json,
        coalesce(extensions.attributes_sent, 0) as attributes_sent,
        drops.attributes_dropped_invalid_value,
        drops.attributes_dropped_empty_name,
        coalesce(later_drops.attributes_dropped_duplicate_name, 0) as attributes_dropped_duplicate_name,
        coalesce(over_limit.attributes_dropped_over_limit, 0) as attributes_dropped_over_limit,
        drops.attributes_dropped_invalid_value
        + drops.attributes_dropped_empty_name
        + coalesce(later_drops.attributes_dropped_duplicate_name, 0)
        + coalesce(over_limit.attributes_dropped_over_limit, 0) as attributes_dropped
    from drops
    left join extensions on drops.{{ owner_key }} = extensions.{{ owner_key }}
    left join later_drops on drops.{{ owner_key }} = later_drops.{{ owner_key }}
    left join over_limit on drops.{{ owner_key }} = over_limit.{{ owner_key }}
)

select * from final

{%- endmacro %}
