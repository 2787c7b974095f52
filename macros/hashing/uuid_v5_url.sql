{#- A UUID version 5 (RFC 4122) in the URL namespace
    6ba7b811-9dad-11d1-80b4-00c04fd430c8 is what Python's
    uuid.uuid5(uuid.NAMESPACE_URL, name) gives. It takes two steps, so that a
    model computes the digest once: uuid_v5_url_digest(name) as a column,
    then uuid_from_sha1_hex(that column). -#}
{% macro uuid_v5_url_digest(name) -%}
    {{ return(adapter.dispatch('uuid_v5_url_digest', 'cdp_orders')(name)) }}
{%- endmacro %}

{% macro duckdb__uuid_v5_url_digest(name) -%}
    sha1(unhex('6ba7b8119dad11d180b400c04fd430c8') || encode({{ name }}))
{%- endmacro %}

{#- Lays a SHA-1 hex digest out as a version 5 UUID: version nibble 5, and
    the variant bits 10 on the 17th hex digit (n -> (n & 3) | 8). -#}
{% macro uuid_from_sha1_hex(digest) -%}
    substr({{ digest }}, 1, 8) || '-' || substr({{ digest }}, 9, 4)
    || '-5' || substr({{ digest }}, 14, 3)
    || '-' || substr('89ab89ab89ab89ab', {{ text_position("'0123456789abcdef'", 'substr(' ~ digest ~ ', 17, 1)') }}, 1)
    || substr({{ digest }}, 18, 3)
    || '-' || substr({{ digest }}, 21, 12)
{%- endmacro %}

{#- PostgreSQL has no SHA-1 of its own: pgcrypto's digest (the extension must
    be installed in the database; README "Running on a cluster"). -#}
{% macro postgres__uuid_v5_url_digest(name) -%}
    encode(
        digest(decode('6ba7b8119dad11d180b400c04fd430c8', 'hex') || convert_to({{ name }}, 'UTF8'), 'sha1'),
        'hex'
    )
{%- endmacro %}

{% macro spark__uuid_v5_url_digest(name) -%}
    sha1(concat(unhex('6ba7b8119dad11d180b400c04fd430c8'), encode({{ name }}, 'UTF-8')))
{%- endmacro %}

{#- Another engine may run the SQL above differently: it must get its own version. -#}
{% macro default__uuid_v5_url_digest(name) -%}
    {{ exceptions.raise_compiler_error('uuid_v5_url_digest is not implemented for ' ~ target.type) }}
{%- endmacro %}
