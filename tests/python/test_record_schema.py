"""record_schema, the fast way: it accepts only what record_checks passes; it takes exports."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from cdp_loader.cli import cli
from cdp_loader.record_checks import Findings, record_findings
from cdp_loader.record_schema import LineKeys, clean_line
from export_helpers import (
    canonical_json,
    create_batch_records_db,
    delete_value,
    envelope,
    order_value,
    sample_records,
)
from validator_cases import faulty_lines

DOCUMENTATION_EXAMPLES = json.loads(
    (Path(__file__).parent / "data" / "documentation_examples.json").read_text(encoding="utf-8"))


def body(record: dict) -> bytes:
    return canonical_json(record).encode()


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=faulty_lines())
def test_whatever_the_fast_way_accepts_record_checks_passes(line: bytes) -> None:
    if clean_line(line) is not None:
        assert record_findings(json.loads(line)) == Findings()


def test_a_clean_line_gives_its_keys() -> None:
    record = envelope("insert", order_value(4))
    assert clean_line(body(record)) == LineKeys(
        record["ref"], "R0000004", record["value"]["orderedAt"])
    delete = envelope("delete", delete_value(2))
    assert clean_line(body(delete)) == LineKeys(
        delete["ref"], "D0000002", "2025-02-01T09:00:00.000Z")


def test_money_keeps_its_spelling_and_must_be_a_number() -> None:
    line = body(envelope("insert", order_value(1))).replace(b'"price":180.5', b'"price":180.50')
    for spelling in (b"180.50", b"1.805e2", b"-0", b"18050"):
        assert clean_line(line.replace(b"180.50", spelling, 1)) is not None, spelling
    for other in (b'"180.50"', b"true", b"null", b"[1]", b'{"a":1}'):
        assert clean_line(line.replace(b"180.50", other, 1)) is None, other


def test_duplicate_keys_nan_and_whitespace_go_the_slow_way() -> None:
    line = body(envelope("insert", order_value(1)))
    assert clean_line(line.replace(b'{"provider":', b'{"provider":"X","provider":', 1)) is None
    assert clean_line(line.replace(b'"price":180.5', b'"price":NaN')) is None
    assert clean_line(line.replace(b'"channel":', b'"channel" :')) is None
    assert clean_line(line + b"\r") is None


def test_an_empty_contact_and_an_unknown_key_go_the_slow_way() -> None:
    record = envelope("insert", order_value(1))
    record["value"]["contact"] = {}
    assert clean_line(body(record)) is None
    assert record_findings(record).errors == ["value.contact is an empty object"]
    record = envelope("insert", order_value(1) | {"shippedAt": "x"})
    assert clean_line(body(record)) is None


def test_item_names_are_counted_in_characters_as_record_checks_counts() -> None:
    record = envelope("insert", order_value(1))
    record["value"]["orderItems"][1]["name"] = "é" * 128
    assert clean_line(body(record)) is not None
    record["value"]["orderItems"][1]["name"] = "é" * 129
    assert clean_line(body(record)) is None


def test_calendar_dates_are_checked_piece_by_piece() -> None:
    record = envelope("insert", order_value(1))
    for ordered_at, clean in (("2024-02-29T23:59:59.999Z", True),
                              ("2023-02-29T10:00:00.000Z", False),
                              ("2025-04-31T10:00:00.000Z", False),
                              ("2025-03-01T24:00:00.000Z", False),
                              ("2025-03-01T10:60:00.000Z", False),
                              ("2025-03-01T10:00:00.00Z", False),
                              ("2025-03-01T10:00:00.000", False)):
        record["value"]["orderedAt"] = ordered_at
        assert (clean_line(body(record)) is not None) is clean, ordered_at
        assert (record_findings(record).errors == []) is clean, ordered_at


def test_the_documentations_examples_pass_though_not_the_fast_way() -> None:
    # Written by hand, not in the export's key order or spelling: the slow way passes them.
    for example in DOCUMENTATION_EXAMPLES:
        assert record_findings(example["record"]) == Findings(), example["source"]


def test_every_line_of_an_export_takes_the_fast_way(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    create_batch_records_db(database, sample_records(inserts=20, deletes=3, payload_bytes=50))
    result = CliRunner().invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "out"),
                                      "--database", str(database)])
    assert result.exit_code == 0, result.output
    lines = [line for path in sorted((tmp_path / "out").glob("batch-*.json.gz"))
             for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert len(lines) == 23
    assert all(clean_line(line) is not None for line in lines)
