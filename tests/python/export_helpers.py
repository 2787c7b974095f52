"""Builds real DuckDB files holding `cdp.cdp_batch_records` for the export and validate tests.

Until the dbt project builds the relation, the tests create it themselves with
the columns of the contract (interfaces.md) and lines shaped like example.md.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import duckdb

UUID_NAMESPACE_URL = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")

CREATE_TABLE = """
create schema if not exists cdp;
create or replace table cdp.cdp_batch_records (
    seq bigint, ref varchar, schema varchar, mode varchar,
    order_id bigint, reference_id varchar, ordered_at timestamp, record_hash varchar,
    record varchar
);
"""


def canonical_json(value: Any) -> str:
    """Minified JSON, non-ASCII as itself (raw_warehouse.md, canonical bytes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def envelope(mode: str, value: dict[str, Any]) -> dict[str, Any]:
    name = f"cdp-orders:order:{mode}:{canonical_json(value)}"
    return {
        "ref": str(uuid.uuid5(UUID_NAMESPACE_URL, name)),
        "schema": "order",
        "mode": mode,
        "value": value,
    }


def order_value(number: int, payload: str = "") -> dict[str, Any]:
    """A valid order insert value; `payload` varies the bytes (e.g. to compress badly)."""
    reference = f"R{number:07d}"
    return {
        "referenceId": reference,
        "channel": "WEB",
        "pointOfSale": "spinair.com",
        "status": "PURCHASED",
        "orderedAt": f"2025-03-{1 + number % 28:02d}T16:15:11.250Z",
        "currencyCode": "EUR",
        "price": 180.5,
        "paymentType": "Card",
        "cardType": "Visa",
        "contact": {
            "firstName": "Zoë",
            "lastName": "Byrne",
            "email": f"guest{number}@example.ie",
            "identifiers": [{"provider": "CRM", "id": f"CRM-{number:06d}"}],
        },
        "consumers": [
            {
                "firstName": "Zoë",
                "lastName": "Byrne",
                "orderItems": [{"referenceId": f"{reference}-1"}],
            }
        ],
        "orderItems": [
            {
                "type": "FLIGHT",
                "productId": "DUB-LAS",
                "name": "Dublin to Las Vegas",
                "description": "Dublin to Las Vegas",
                "vendor": "SpinAir",
                "quantity": 1,
                "price": 150.0,
                "currencyCode": "EUR",
                "referenceId": f"{reference}-1",
                "status": "CONFIRMED",
                "language": "EN",
                "consumerTypeCode": "ADT",
                "flightSegments": [
                    {
                        "id": f"S{number}",
                        "origin": "DUB",
                        "destination": "LHR",
                        "departureDateTime": "2025-08-15T16:00Z",
                        "arrivalDateTime": "2025-08-15T17:20Z",
                        "flightNumber": "459",
                        "fareClass": "Economy",
                        "carrier": "FR",
                    }
                ],
            },
            {
                "type": "BAG",
                "productId": "BAG23",
                "name": "23kg bag",
                "description": "23kg bag",
                "vendor": "spinair.com",
                "price": 30.5,
                "currencyCode": "EUR",
                "referenceId": f"{reference}-2",
                "status": "PURCHASED",
                "extensions": [{"name": "ext", "key": "default", "bagWeightKg": 23.5}],
            },
        ],
        "extensions": [{"name": "ext", "key": "default", "note": payload or "none"}],
    }


def delete_value(number: int) -> dict[str, Any]:
    return {"referenceId": f"D{number:07d}", "orderedAt": "2025-02-01T09:00:00.000Z"}


def sample_records(inserts: int, deletes: int = 0, payload_bytes: int = 0) -> list[dict]:
    """Envelopes in file order: deletes first, then inserts (payload is incompressible hex)."""
    records = [envelope("delete", delete_value(n)) for n in range(1, deletes + 1)]
    for n in range(1, inserts + 1):
        digests = (hashlib.sha256(f"{n}:{k}".encode()).hexdigest() for k in range(payload_bytes))
        payload = "".join(digests)[:payload_bytes] if payload_bytes else ""
        records.append(envelope("insert", order_value(n, payload)))
    return records


def create_batch_records_db(path: Path, records: list[dict] | list[str]) -> list[str]:
    """Write `records` (envelopes or ready lines) as `cdp.cdp_batch_records`; return the lines."""
    lines = [r if isinstance(r, str) else canonical_json(r) for r in records]
    rows = []
    for seq, line in enumerate(lines, start=1):
        parsed = json.loads(line)
        rows.append(
            (
                seq,
                parsed["ref"],
                parsed["schema"],
                parsed["mode"],
                1000 + seq,
                parsed["value"]["referenceId"],
                parsed["value"].get("orderedAt", "2025-01-01T00:00:00.000Z").rstrip("Z"),
                hashlib.md5(json.dumps(parsed["value"]).encode()).hexdigest(),
                line,
            )
        )
    connection = duckdb.connect(str(path))
    try:
        connection.execute(CREATE_TABLE)
        if rows:
            connection.executemany(
                "insert into cdp.cdp_batch_records values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
    finally:
        connection.close()
    return lines


def create_generated_db(path: Path, count: int) -> None:
    """`count` valid-shaped insert lines built in SQL, with hex payload that compresses badly."""
    template = canonical_json(envelope("insert", order_value(0, "PAYLOAD")))
    template = template.replace('"R0000000', '"{REF}').replace("guest0@", "{EMAIL}@")
    sql_literal = template.replace("'", "''")
    connection = duckdb.connect(str(path))
    try:
        connection.execute(CREATE_TABLE)
        connection.execute(
            f"""
            insert into cdp.cdp_batch_records
            with numbered as (
                select i, md5(i::varchar) as h, md5((i * 7919)::varchar) as h2
                from range(1, {count + 1}) t(i)
            ),
            filled as (
                select i, h,
                    'R' || lpad(i::varchar, 7, '0') as reference_id,
                    substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-5' || substr(h, 14, 3)
                        || '-8' || substr(h, 18, 3) || '-' || substr(h, 21, 12) as ref,
                    h2 || h || md5(h2) as payload
                from numbered
            )
            select i, ref, 'order', 'insert', 1000 + i, reference_id,
                timestamp '2025-01-01' + to_seconds(i), h,
                regexp_replace(
                    replace(replace(replace('{sql_literal}', '{{REF}}', reference_id),
                        '{{EMAIL}}', 'u' || substr(h, 1, 10)), 'PAYLOAD', payload),
                    '"ref":"[^"]*"', '"ref":"' || ref || '"')
            from filled
            """
        )
    finally:
        connection.close()
