{#- The fingerprint of one row of a raw table, over `columns`: a change
    of any value changes it. Only compared with the same fingerprint of
    another build, on the same engine. -#}
{% macro fingerprint_row(columns) -%}
    {{ return(adapter.dispatch('fingerprint_row', 'cdp_orders')(columns)) }}
{%- endmacro %}

{#- The row as text: a value is quoted and its quotes doubled, a null is the
    bare word null, so no two rows give the same text. -#}
{% macro fingerprint_row_text(columns) -%}
    {%- for column in columns -%}
        coalesce('"' || replace(cast({{ column }} as {{ dbt.type_string() }}), '"', '""') || '"', 'null')
        {%- if not loop.last %} || ',' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro postgres__fingerprint_row(columns) -%}
    {{ return(fingerprint_row_text(columns)) }}
{%- endmacro %}

{% macro spark__fingerprint_row(columns) -%}
    {{ return(fingerprint_row_text(columns)) }}
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__fingerprint_row(columns) -%}
    {{ exceptions.raise_compiler_error('fingerprint_row is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- DuckDB's 64-bit hash of the values, nulls included, in column order. -#}
{% macro duckdb__fingerprint_row(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{#- The fingerprint of a group of rows (an aggregate), the same whatever
    order they are stored in; null for no rows. -#}
{% macro fingerprint_rows(columns) -%}
    {{ return(adapter.dispatch('fingerprint_rows', 'cdp_orders')(columns)) }}
{%- endmacro %}

{#- The md5 of the rows' texts in a fixed order (the text itself). -#}
{% macro postgres__fingerprint_rows(columns) -%}
    {%- set row_text = fingerprint_row_text(columns) -%}
    md5({{ ordered_string_agg(row_text, "'|'", row_text) }})
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__fingerprint_rows(columns) -%}
    {{ exceptions.raise_compiler_error('fingerprint_rows is not implemented for ' ~ target.type) }}
{%- endmacro %}

{#- The same on Spark, sorted as an array: ordered_string_agg takes its
    sort keys from a list of column names, and a row's text has commas. -#}
{% macro spark__fingerprint_rows(columns) -%}
    md5(array_join(array_sort(collect_list({{ fingerprint_row_text(columns) }})), '|'))
{%- endmacro %}

{#- The sum of the rows' hashes, as text: no row text is built and no group
    sorted, where the md5 of the sorted texts took five times as long (1M
    orders: segments 5.0 s -> 1.1 s, passengers 1.3 s -> 0.2 s). A changed
    row goes unseen only if the two sums come out equal, as likely as two
    64-bit hashes colliding (about 1 in 10^19). A DuckDB upgrade that changes its hash touches every
    order once: a full rebuild, not a wrong one. -#}
{% macro duckdb__fingerprint_rows(columns) -%}
    cast(sum({{ duckdb__fingerprint_row(columns) }}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- In an order-grain incremental model, true for the orders this build
    rebuilds (int_orders_touched), true for every order on a full build.
    The ref is taken when dbt parses the model, so that dbt orders the model
    after it, and not on a full build (a unit test gives no such input).
    `built_inside`: in an ephemeral model, the model (in schema cdp) it is
    built inside, whose build, incremental or not, decides. -#}
{% macro touched_orders_filter(key, built_inside=none) -%}
    {%- if not execute or is_nightly_build() or is_nightly_build_of(built_inside) -%}
        {{ key }} in (
            select touched.order_id from {{ ref('int_orders_touched') }} as touched
            where touched.touched_build_id = {{ build_id() }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The same for a model keyed by order line: the current lines of the
    touched orders (a line that moved to another order is one of its lines). -#}
{% macro touched_lines_filter(key) -%}
    {%- if not execute or is_nightly_build() -%}
        {{ key }} in (
            select touched_lines.order_line_id from {{ ref('int_order_lines_mapped') }} as touched_lines
            where {{ touched_orders_filter('touched_lines.order_id') }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- In a customer-grain incremental model, true for the customers this
    build rebuilds: those the orders it rebuilds read (who ordered, in the
    current version, and the passengers), the ids as the order models join
    them. A customer whose rows changed, or went, is one: int_orders_touched
    touches every order that reads it. A customer no order reads keeps its
    rows until an order does (that order is touched, and so the customer).
    The orders' customers come from int_orders_mapped, the touched orders'
    current versions, not from the staging view, which ranks every version
    of every order each time it is read. -#}
{% macro touched_customers_filter(key) -%}
    {%- if not execute or is_nightly_build() -%}
        {{ key }} in (
            select readers.customer_id from {{ ref('int_orders_mapped') }} as readers
            where {{ touched_orders_filter('readers.order_id') }}
            union
            select passengers.customer_id from {{ ref('stg_raw__order_passengers') }} as passengers
            where {{ touched_orders_filter('passengers.order_id') }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- A nightly build deletes the rows of the orders it rebuilds first, as a
    pre-hook: an order whose rows this build no longer makes (a shipped
    order now quarantined) then loses them, where delete+insert alone
    deletes only the keys it inserts. The key names the model's grain:
    order_id, order_line_id (touched_lines_filter) or customer_id (a
    customer whose rows went loses the model's: touched_customers_filter). -#}
{% macro delete_touched_rows(key='order_id') -%}
    {%- set filters = {
        'order_id': touched_orders_filter,
        'order_line_id': touched_lines_filter,
        'customer_id': touched_customers_filter,
    } -%}
    {%- if key not in filters -%}
        {{ exceptions.raise_compiler_error('delete_touched_rows knows no grain keyed by ' ~ key) }}
    {%- endif -%}
    {%- if is_nightly_build() -%}
        delete from {{ this }}
        where {{ filters[key](key) }}
    {%- endif -%}
{%- endmacro %}

{#- cdp_batch_records on a nightly build: every delete record is built
    again (a delete targets what CDP holds, which a ship changes without
    any change in the raw tables; there are few), and the inserts of the
    touched orders. -#}
{% macro delete_touched_batch_records() -%}
    {%- if is_nightly_build() -%}
        delete from {{ this }}
        where mode = 'delete' or {{ touched_orders_filter('order_id') }}
    {%- endif -%}
{%- endmacro %}

{#- After a nightly build of cdp_batch_records: seq is the position in file
    order, which a new delete or order shifts for the records after it, so
    every record takes its seq from int_batch_records_numbered (the keys
    alone, numbered whole; only the seq column is written). The rows are
    then no longer stored in seq order: the loader reads them `order by seq`. -#}
{% macro renumber_batch_records() -%}
    {%- if is_nightly_build() -%}
        update {{ this }} as records
        set seq = numbered.seq
        from {{ ref('int_batch_records_numbered') }} as numbered
        where
            records.mode = numbered.mode
            and records.order_id = numbered.order_id
            and records.seq <> numbered.seq
    {%- endif -%}
{%- endmacro %}

{#- is_incremental() of a model built, false in a unit test (no `this`). -#}
{% macro is_nightly_build() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- on-run-end: when this build touched orders (int_orders_touched ran)
    but a model that rebuilds them did not run to success (an error, a
    skip, or left out by a selection), the orders stay pending: their
    touched_build_id becomes 'unfinished', and the next build touches them
    again ('unfinished_build'). The models that rebuild them are those that
    ref int_orders_touched. Else a night that failed half-way would
    store the new fingerprints and never rebuild what they stand for. -#}
{% macro settle_touched_orders(results) -%}
    {%- if not execute or target.type == 'spark' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set state = namespace(touched=none) -%}
    {%- set succeeded = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'model' and result.status == 'success' -%}
            {%- do succeeded.append(result.node.unique_id) -%}
            {%- if result.node.name == 'int_orders_touched' -%}
                {%- set state.touched = result.node -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.touched is none -%}
        {{ return('') }}
    {%- endif -%}
    {#- The models that rebuild touched orders: each refs int_orders_touched
        (touched_orders_filter). -#}
    {%- set downstream = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized != 'ephemeral'
            and state.touched.unique_id in node.depends_on.nodes -%}
            {%- do downstream.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set unfinished = downstream | reject('in', succeeded) | list -%}
    {%- if unfinished -%}
        {%- do log('Not every model that rebuilds the touched orders ran (' ~ unfinished | length
            ~ ', e.g. ' ~ unfinished[0] ~ '): the next build touches them again', info=true) -%}
        update {{ state.touched.relation_name }}
        set touched_build_id = 'unfinished'
        where touched_build_id = {{ build_id() }}
    {%- endif -%}
{%- endmacro %}

{#- Whether `name` (a model of the cdp schema, not this one) is built
    incrementally in this run: it exists and this is no full refresh. -#}
{% macro is_nightly_build_of(name) -%}
    {%- if name is none or not execute or this is none or target.type == 'spark' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set host = adapter.get_relation(database=target.database, schema=cdp_schema(), identifier=name) -%}
    {{ return(host is not none and host.is_table and not flags.FULL_REFRESH) }}
{%- endmacro %}
