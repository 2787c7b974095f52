"""The sandbox reads and checks a line by validate's rules (record_lines, record_checks)."""

from __future__ import annotations

from cdp_loader.record_lines import check_line
from cdp_loader.sandbox.faults import FaultPlan
from cdp_loader.sandbox.orders import OrderStore
from cdp_loader.sandbox.processing import NOT_JSON, process_lines
from export_helpers import canonical_json, envelope, order_value


def processed(lines: list[bytes]) -> list[tuple[int, str]]:
    received = process_lines(lines, batch_ref="b", faults=FaultPlan.parse(None),
                             orders=OrderStore())
    return [(entry["code"], entry["message"]) for entry in received]


def test_a_duplicate_key_or_nan_is_not_json_to_the_sandbox_as_to_validate() -> None:
    line = canonical_json(envelope("insert", order_value(1)))
    duplicate = line.replace('"channel":', '"channel":"OTA","channel":', 1).encode()
    nan = line.replace('"price":180.5', '"price":NaN', 1).encode()
    assert processed([duplicate, nan]) == [(400, NOT_JSON), (400, NOT_JSON)]
    assert check_line(duplicate).errors == ["duplicate key 'channel' in a JSON object"]
    assert check_line(nan).errors == ["line is not valid JSON"]


def test_an_upsert_is_refused_by_the_sandbox_for_what_validate_reports() -> None:
    insert = envelope("insert", order_value(2))
    value = order_value(2)
    value["orderItems"] = [{"referenceId": "R0000002-1", "status": "CANCELLED"},
                           {"referenceId": "R0000002-2", "status": "CANCELLED", "price": 1}]
    bad = envelope("upsert", value)
    value = dict(value, orderItems=value["orderItems"][:1])
    good = envelope("upsert", value)
    lines = [canonical_json(record).encode() for record in (insert, bad, good)]
    assert processed(lines) == [
        (200, "Order created"),
        (400, "Validation error: value.orderItems[1].price is not supported in upsert mode"),
        (200, "Order updated"),
    ]
    assert check_line(lines[1]).errors == [
        "value.orderItems[1].price is not supported in upsert mode"]


def test_a_key_no_model_knows_is_a_warning_and_the_sandbox_applies_the_record() -> None:
    line = canonical_json(envelope("insert", order_value(3) | {"shippedAt": "x"})).encode()
    assert processed([line]) == [(200, "Order created")]
    assert check_line(line).warnings == ["value.shippedAt is not an attribute of this model"]
