{#- Text functions whose name or arguments differ between engines. -#}

{#- The 1-based position of `part` in `text`, 0 when absent. -#}
{% macro text_position(text, part) -%}
    {{ return(adapter.dispatch('text_position', 'cdp_orders')(text, part)) }}
{%- endmacro %}

{% macro duckdb__text_position(text, part) -%}
    strpos({{ text }}, {{ part }})
{%- endmacro %}

{% macro spark__text_position(text, part) -%}
    instr({{ text }}, {{ part }})
{%- endmacro %}

{#- True when `text` begins with `prefix`. -#}
{% macro starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('starts_with', 'cdp_orders')(text, prefix)) }}
{%- endmacro %}

{% macro duckdb__starts_with(text, prefix) -%}
    starts_with({{ text }}, {{ prefix }})
{%- endmacro %}

{% macro spark__starts_with(text, prefix) -%}
    startswith({{ text }}, {{ prefix }})
{%- endmacro %}

{#- `text` without the leading or trailing run of the given characters. -#}
{% macro trim_characters(text, characters, side) -%}
    {{ return(adapter.dispatch('trim_characters', 'cdp_orders')(text, characters, side)) }}
{%- endmacro %}

{% macro duckdb__trim_characters(text, characters, side) -%}
    {{ 'ltrim' if side == 'leading' else 'rtrim' }}({{ text }}, {{ characters }})
{%- endmacro %}

{#- Spark's two-argument ltrim/rtrim take the characters first. -#}
{% macro spark__trim_characters(text, characters, side) -%}
    trim({{ side }} {{ characters }} from {{ text }})
{%- endmacro %}

{#- Every match of `pattern` replaced (not only the first). -#}
{% macro regexp_replace_all(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'cdp_orders')(text, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{#- Spark's regexp_replace replaces every match; its fourth argument is a position. -#}
{% macro spark__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{#- The group's values joined by `separator` in the order `order_by` gives
    (a comma-separated list of expressions, each optionally 'asc' and
    'nulls last', the default); null when no value is non-null. -#}
{% macro ordered_string_agg(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg', 'cdp_orders')(expression, separator, order_by)) }}
{%- endmacro %}

{#- DuckDB's ordered aggregate buffers and sorts each group on its own; a
    plain list of (null flag, key, value) structs sorted per group gives the
    same order at half the cost (bench: 3.1 s vs 6.1 s for 2.5M items). -#}
{% macro duckdb__ordered_string_agg(expression, separator, order_by) -%}
    {%- set keys = ascending_sort_keys(order_by) -%}
    array_to_string(
        list_transform(
            list_sort(list(struct_pack(
                {%- for key in keys %}
                null_{{ loop.index }} := ({{ key }}) is null,
                key_{{ loop.index }} := {{ key }},
                {%- endfor %}
                value := {{ expression }}
            )) filter (where ({{ expression }}) is not null)),
            entry -> entry.value
        ),
        {{ separator }}
    )
{%- endmacro %}

{% macro postgres__ordered_string_agg(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{#- Spark 3 has no ordered string_agg: the values are collected with their
    sort keys, sorted (a null key after the others) and joined. -#}
{% macro spark__ordered_string_agg(expression, separator, order_by) -%}
    {%- set keys = ascending_sort_keys(order_by) -%}
    case when count({{ expression }}) > 0 then array_join(
        transform(
            array_sort(collect_list(named_struct(
                {%- for key in keys %}
                'null_{{ loop.index }}', ({{ key }}) is null,
                'key_{{ loop.index }}', {{ key }},
                {%- endfor %}
                'value', {{ expression }}
            ))),
            entry -> entry.value
        ),
        {{ separator }}
    ) end
{%- endmacro %}

{#- The expressions of an order_by that sorts ascending with nulls last, the
    only order the struct sorts above can give. -#}
{% macro ascending_sort_keys(order_by) -%}
    {%- set keys = [] -%}
    {%- for term in order_by.split(',') -%}
        {%- set key = term | trim -%}
        {%- set key = key | replace(' asc nulls last', '') | replace(' nulls last', '') | replace(' asc', '') -%}
        {%- if ' desc' in key or ' nulls first' in key -%}
            {{ exceptions.raise_compiler_error('ordered_string_agg: only ascending, nulls last: ' ~ term) }}
        {%- endif -%}
        {%- do keys.append(key) -%}
    {%- endfor -%}
    {{ return(keys) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__ordered_string_agg(expression, separator, order_by) -%}
    {{ exceptions.raise_compiler_error('ordered_string_agg is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- PostgreSQL runs the same SQL as DuckDB. -#}
{% macro postgres__regexp_replace_all(text, pattern, replacement) -%}
    {{ return(duckdb__regexp_replace_all(text, pattern, replacement)) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__regexp_replace_all(text, pattern, replacement) -%}
    {{ exceptions.raise_compiler_error('regexp_replace_all is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- PostgreSQL runs the same SQL as DuckDB. -#}
{% macro postgres__starts_with(text, prefix) -%}
    {{ return(duckdb__starts_with(text, prefix)) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__starts_with(text, prefix) -%}
    {{ exceptions.raise_compiler_error('starts_with is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- PostgreSQL runs the same SQL as DuckDB. -#}
{% macro postgres__text_position(text, part) -%}
    {{ return(duckdb__text_position(text, part)) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__text_position(text, part) -%}
    {{ exceptions.raise_compiler_error('text_position is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- PostgreSQL runs the same SQL as DuckDB. -#}
{% macro postgres__trim_characters(text, characters, side) -%}
    {{ return(duckdb__trim_characters(text, characters, side)) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__trim_characters(text, characters, side) -%}
    {{ exceptions.raise_compiler_error('trim_characters is not implemented for ' ~ target.type) }}
{%- endmacro %}
