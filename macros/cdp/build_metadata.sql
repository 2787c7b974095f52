{#- The build a row was computed in: dbt's invocation_id, the same for every
    model of one `dbt build`, and the time that build started (UTC). The
    history models key their rows on them, and the latest-build marts carry
    them so that a row can be found in the history. -#}
{% macro build_id() -%}
    cast('{{ invocation_id }}' as {{ dbt.type_string() }})
{%- endmacro %}

{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
