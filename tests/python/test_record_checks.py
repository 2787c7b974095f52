"""record_problems: the spec's models applied to one batch line."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdp_loader.record_checks import Findings, record_findings, record_problems
from export_helpers import canonical_json, delete_value, envelope, order_value

EXAMPLE = Path("/work/shared/contracts/example.md")
# The example lines of the spec and of the CDP pages in /work/shared/seeds, copied.
DOCUMENTATION_EXAMPLES = json.loads(
    (Path(__file__).parent / "data" / "documentation_examples.json").read_text(encoding="utf-8"))


def example_lines() -> list[str]:
    """The batch lines of the shared worked example (skipped when it is not there)."""
    if not EXAMPLE.exists():
        pytest.skip("shared example not available")
    return re.findall(r'^\{"ref".*\}$', EXAMPLE.read_text(encoding="utf-8"), flags=re.M)


def order() -> dict[str, Any]:
    return envelope("insert", order_value(7))


def edited(record: dict[str, Any], path: str, value: Any = ..., delete: bool = False) -> dict:
    """A deep copy with the attribute at dotted `path` (list indexes as numbers) changed."""
    result = copy.deepcopy(record)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if delete:
        del node[key]
    else:
        node[key] = value
    return result


def test_example_lines_are_valid() -> None:
    lines = example_lines()
    assert len(lines) == 2
    assert [record_problems(json.loads(line)) for line in lines] == [[], []]


def test_generated_order_and_delete_are_valid() -> None:
    assert record_problems(order()) == []
    assert record_problems(envelope("delete", delete_value(3))) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("ref", "not-a-uuid", "ref is not a UUID"),
        ("schema", "guest", "schema 'guest' is not 'order'"),
        ("mode", "merge", "mode 'merge' is not insert, upsert or delete"),
        ("value.status", "SHIPPED", "value.status 'SHIPPED' is not an order status"),
        ("value.channel", "web", "value.channel 'web' is not a CDP channel"),
        ("value.orderedAt", "2025-03-07T16:15:11Z",
         "value.orderedAt '2025-03-07T16:15:11Z' is not a date-time written "
         "YYYY-MM-DDTHH:MM:SS.sssZ"),
        ("value.orderedAt", "2025-02-30T16:15:11.000Z",
         "value.orderedAt '2025-02-30T16:15:11.000Z' is not a date-time written "
         "YYYY-MM-DDTHH:MM:SS.sssZ"),
        ("value.currencyCode", "eur", "value.currencyCode 'eur' is not an ISO 4217 code"),
        ("value.price", "180.50", "value.price must be a JSON number, not string"),
        ("value.price", True, "value.price must be a JSON number, not boolean"),
        ("value.price", None, "value.price is null"),
        ("value.pointOfSale", "", "value.pointOfSale is an empty string"),
        ("value.contact.gender", "M", "value.contact.gender 'M' is not male, female or unknown"),
        ("value.contact.identifiers", [], "value.contact.identifiers is an empty array"),
        ("value.orderItems.0.status", "SHIPPED",
         "value.orderItems[0].status 'SHIPPED' is not an item status"),
        ("value.orderItems.1.type", "BAGGAGE", "value.orderItems[1].type 'BAGGAGE' is deprecated"),
        ("value.orderItems.1.type", "Flight",
         "value.orderItems[1].type 'Flight' is not upper case with underscores"),
        ("value.orderItems.1.extensions.0.bagWeightKg", [23],
         "value.orderItems[1].extensions[0].bagWeightKg must be a string, boolean or number, "
         "not array"),
        ("value.orderItems.0.consumerTypeCode", "ADULT",
         "value.orderItems[0].consumerTypeCode 'ADULT' is not ADT, CHD, INF or INS"),
        ("value.orderItems.0.language", "en",
         "value.orderItems[0].language 'en' is not two upper-case letters"),
        ("value.orderItems.0.name", "N" * 129,
         "value.orderItems[0].name is longer than 128 characters"),
        ("value.orderItems.0.flightSegments.0.origin", "dub",
         "value.orderItems[0].flightSegments[0].origin 'dub' is not upper case"),
        ("value.orderItems.0.flightSegments.0.departureDateTime", "2025-08-15T16:00:00.000Z",
         "value.orderItems[0].flightSegments[0].departureDateTime '2025-08-15T16:00:00.000Z' "
         "is not a date-time written YYYY-MM-DDTHH:MMZ"),
        ("value.extensions.0.name", "extra", "value.extensions[0].name must be 'ext'"),
        ("value.extensions.0.key", "main", "value.extensions[0].key must be 'default'"),
        ("value.extensions.0.bad-name", "x",
         "value.extensions[0] attribute name 'bad-name' is not alphanumeric"),
        ("value.extensions.0.nested", {"a": 1},
         "value.extensions[0].nested must be a string, boolean or number, not object"),
        ("value.consumers.0.orderItems.0.referenceId", "R0000007-9",
         "value.consumers[0].orderItems[0].referenceId names no item of this order"),
    ],
)
def test_each_rule_reports_one_short_problem(path: str, value: Any, expected: str) -> None:
    assert record_problems(edited(order(), path, value)) == [expected]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("value.referenceId", "value.referenceId is required"),
        ("value.contact", "value.contact is required"),
        ("value.cardType", "value.cardType is required when paymentType is 'Card'"),
        ("value.orderItems.1.vendor", "value.orderItems[1].vendor is required"),
        ("value.orderItems.0.consumerTypeCode",
         "value.orderItems[0].consumerTypeCode is required on a FLIGHT item"),
        ("value.orderItems.0.flightSegments.0.carrier",
         "value.orderItems[0].flightSegments[0].carrier is required"),
        ("value.contact.identifiers.0.id", "value.contact.identifiers[0].id is required"),
    ],
)
def test_missing_required_attribute(path: str, expected: str) -> None:
    assert record_problems(edited(order(), path, delete=True)) == [expected]


def test_order_without_items() -> None:
    assert record_problems(edited(order(), "value.orderItems", [])) == [
        "value.orderItems is an empty array",
        "value.consumers[0].orderItems[0].referenceId names no item of this order",
    ]


def test_envelope_with_an_extra_key() -> None:
    record = order() | {"extra": 1}
    assert record_problems(record) == [
        "envelope must have exactly the keys ref, schema, mode, value"
    ]


def test_card_type_not_needed_for_other_payment_types() -> None:
    record = edited(edited(order(), "value.paymentType", "Paypal"), "value.cardType", delete=True)
    assert record_problems(record) == []


def test_flight_only_attributes_on_another_item_type() -> None:
    record = edited(order(), "value.orderItems.0.type", "HOTEL")
    assert record_problems(record) == [
        "value.orderItems[0].consumerTypeCode is only for FLIGHT items",
        "value.orderItems[0].flightSegments is only for FLIGHT items",
    ]


def test_consumer_needs_a_name() -> None:
    record = edited(order(), "value.consumers.0.firstName", delete=True)
    record = edited(record, "value.consumers.0.lastName", delete=True)
    assert record_problems(record) == ["value.consumers[0] needs a firstName or a lastName"]


def test_duplicate_item_reference() -> None:
    record = order()
    record["value"]["orderItems"].append(copy.deepcopy(record["value"]["orderItems"][0]))
    assert record_problems(record) == [
        "value.orderItems[2].referenceId repeats another item's referenceId"
    ]


def test_extension_limits() -> None:
    record = order()
    record["value"]["extensions"][0].update({f"a{n}": n for n in range(50)})
    assert record_problems(record) == [
        "value.extensions[0] has 51 attributes, more than 50"
    ]
    two = edited(order(), "value.extensions", [{"name": "ext", "key": "default"}] * 2)
    assert record_problems(two) == ["value.extensions must be an array of exactly one object"]


def test_empty_extension_string_is_a_value() -> None:
    assert record_problems(edited(order(), "value.extensions.0.note", "")) == []


def test_delete_rules() -> None:
    delete = envelope("delete", delete_value(1))
    assert record_problems(edited(delete, "value.referenceId", "")) == [
        "value.referenceId is an empty string"
    ]
    assert record_problems(edited(delete, "value.orderedAt", delete=True)) == [
        "value.orderedAt is required"
    ]
    assert record_problems(edited(delete, "value.orderedAt", "2025-02-01 09:00:00")) == [
        "value.orderedAt '2025-02-01 09:00:00' is not a date-time written "
        "YYYY-MM-DDTHH:MM:SS.sssZ"
    ]
    assert record_findings(edited(delete, "value.status", "CANCELLED")) == Findings(
        warnings=["value.status is not an attribute of this model"]
    )


def test_messages_never_echo_personal_values() -> None:
    record = order()
    contact = record["value"]["contact"]
    contact.update(email=["secret.person@example.com"], firstName=42, dateOfBirth="1988-99-02")
    problems = record_problems(record)
    assert problems == [
        "value.contact.firstName must be a string, not number",
        "value.contact.email must be a string, not array",
        "value.contact.dateOfBirth is not a date-time written YYYY-MM-DDTHH:MMZ",
    ]
    assert not any("secret" in problem or "1988" in problem for problem in problems)


def test_not_an_object() -> None:
    assert record_problems([1, 2]) == ["line is not a JSON object"]  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(text=st.text())
def test_any_text_survives_the_json_line_round_trip(text: str) -> None:
    """Canonical JSON escapes whatever a warehouse string holds onto one valid line."""
    record = edited(order(), "value.extensions.0.note", text)
    line = canonical_json(record)
    assert "\n" not in line and "\r" not in line
    parsed = json.loads(line)
    assert parsed["value"]["extensions"][0]["note"] == text
    assert record_problems(parsed) == []


# --- every mode, unknown keys, the documentation's examples (issue 11) ----------------


@pytest.mark.parametrize("example", DOCUMENTATION_EXAMPLES, ids=lambda e: e["source"])
def test_the_documentations_examples_pass(example: dict[str, Any]) -> None:
    assert record_findings(example["record"]) == Findings()


def test_the_examples_cover_every_documented_shape() -> None:
    modes = [example["record"]["mode"] for example in DOCUMENTATION_EXAMPLES]
    assert modes.count("insert") == 6 and modes.count("delete") == 2
    assert any("extensions" in example["record"]["value"] for example in DOCUMENTATION_EXAMPLES)


def upsert() -> dict[str, Any]:
    """An upsert of order 7: the order-level attributes and each item's status."""
    value = order_value(7)
    value["orderItems"] = [{"referenceId": item["referenceId"], "status": "CANCELLED"}
                           for item in value["orderItems"]]
    return envelope("upsert", value)


def test_an_upsert_of_status_is_valid_and_its_optional_attributes_may_go() -> None:
    assert record_findings(upsert()) == Findings()
    record = upsert()
    for key in ("status", "currencyCode", "price", "paymentType", "cardType", "consumers",
                "extensions"):
        del record["value"][key]
    assert record_findings(record) == Findings()


def test_an_upsert_is_checked_whole_with_unknown_keys_as_warnings() -> None:
    record = upsert()
    value = record["value"]
    value["reference"] = value.pop("referenceId")
    value["orderContact"] = value.pop("contact")
    assert record_findings(record) == Findings(
        errors=["value.referenceId is required", "value.contact is required"],
        warnings=[
            "value.reference is not an attribute of this model; did you mean referenceId?",
            "value.orderContact is not an attribute of this model; did you mean contact?",
        ],
    )


def test_an_upsert_refuses_what_its_columns_do_not_support() -> None:
    record = edited(upsert(), "value.orderItems.0.price", 150.0)
    record = edited(record, "value.orderItems.1.statuss", "CANCELLED")
    record = edited(record, "value.channel", delete=True)
    assert record_findings(record) == Findings(
        errors=["value.channel is required",
                "value.orderItems[0].price is not supported in upsert mode"],
        warnings=["value.orderItems[1].statuss is not an attribute of this model; "
                  "did you mean status?"],
    )
    assert record_problems(edited(upsert(), "value.orderItems.0.status", "SHIPPED")) == [
        "value.orderItems[0].status 'SHIPPED' is not an item status"
    ]


def test_an_unknown_mode_still_has_its_value_checked() -> None:
    record = edited(edited(order(), "mode", "merge"), "value.status", "SHIPPED")
    assert record_problems(record) == [
        "mode 'merge' is not insert, upsert or delete",
        "value.status 'SHIPPED' is not an order status",
    ]
    delete = edited(envelope("delete", delete_value(1)), "mode", "Delete")
    assert record_problems(edited(delete, "value.orderedAt", "yesterday")) == [
        "mode 'Delete' is not insert, upsert or delete",
        "value.orderedAt 'yesterday' is not a date-time written YYYY-MM-DDTHH:MM:SS.sssZ",
    ]


def test_unknown_keys_are_warnings_naming_the_nearest_known_key() -> None:
    record = edited(order(), "value.contact.emial", "x@example.com")
    record = edited(record, "value.orderItems.0.flightSegments.0.shippedAt", "x")
    assert record_findings(record) == Findings(warnings=[
        "value.contact.emial is not an attribute of this model; did you mean email?",
        "value.orderItems[0].flightSegments[0].shippedAt is not an attribute of this model",
    ])


def test_flight_items_may_leave_out_name_description_and_vendor() -> None:
    record = order()
    for key in ("name", "description", "vendor"):
        record = edited(record, f"value.orderItems.0.{key}", delete=True)
    assert record_findings(record) == Findings()
    assert record_problems(edited(order(), "value.orderItems.1.name", delete=True)) == [
        "value.orderItems[1].name is required"
    ]


def test_a_list_or_an_object_as_schema_or_mode_is_reported_not_a_crash() -> None:
    # Today's checks raised TypeError here (unhashable in a frozenset).
    record = edited(edited(order(), "schema", []), "mode", {"a": 1})
    assert record_problems(record) == [
        "schema (array) is not 'order'",
        "mode (object) is not insert, upsert or delete",
    ]
