"""Random batch lines for the property tests of the validator: valid ones, and one fault each.

`valid_records` draws orders (flight and other items, consumers, extensions,
optional attributes present or not, any text) and deletes; `faulty_lines`
injects one fault of each kind the validator knows, in the record or in its
bytes. The lines are the export's canonical form unless a fault changes it.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hypothesis import strategies as st

from cdp_loader import record_schema
from export_helpers import canonical_json, delete_value, envelope, order_value

# Text that JSON must escape, that looks like JSON, or that is not ASCII.
TEXT = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(['a":"b', "{}", "[]", "\\", '"', "\n", "\u2028", "Zoë", "é" * 129]),
)
# Numbers as the export writes them (cents); others are in REPLACEMENTS.
NUMBERS = st.one_of(st.integers(-10**6, 10**6),
                    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)))
EXTENSION_VALUES = st.one_of(TEXT, st.just(""), st.booleans(), NUMBERS)


@st.composite
def order_records(draw: st.DrawFn) -> dict[str, Any]:
    """A valid insert: order_value's shape, with its parts drawn."""
    value = order_value(draw(st.integers(1, 9_999_999)))
    value["price"] = draw(NUMBERS)
    value["contact"]["firstName"] = draw(TEXT)
    if draw(st.booleans()):
        value["paymentType"] = "Paypal"
        del value["cardType"]
    if draw(st.booleans()):
        value["contact"].update(title="Ms", gender="female", dateOfBirth=draw(st.sampled_from(
            ["1985-12-24T00:00Z", "2000-02-29T23:59Z"])), phoneNumbers=["+353100000"])
    flight, bag = value["orderItems"]
    flight["flightSegments"][0]["fareFamily"] = draw(TEXT)
    if draw(st.booleans()):
        for key in ("name", "description", "vendor"):
            del flight[key]
    bag["extensions"][0].update(draw(st.dictionaries(
        st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True).filter(lambda k: k not in ("name",
                                                                                       "key")),
        EXTENSION_VALUES, max_size=4)))
    if draw(st.booleans()):
        del value["consumers"]
    if draw(st.booleans()):
        del value["extensions"]
    return envelope("insert", _in_canonical_order(value))


def _ordered(obj: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {key: obj[key] for key in fields if key in obj}


def _in_canonical_order(value: dict[str, Any]) -> dict[str, Any]:
    """The keys in the export's order (raw_warehouse.md), as the export writes them."""
    value = _ordered(value, record_schema.ORDER_FIELDS)
    value["contact"] = _ordered(value["contact"], record_schema.CONTACT_FIELDS)
    for item in value["orderItems"]:
        for index, segment in enumerate(item.get("flightSegments", [])):
            item["flightSegments"][index] = _ordered(segment, record_schema.SEGMENT_FIELDS)
    return value


def valid_records() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(order_records(), st.integers(1, 99_999).map(
        lambda n: envelope("delete", delete_value(n))))


# Values a fault puts in place of an attribute: wrong types, empties, bad codes and dates.
REPLACEMENTS = [
    None, "", [], {}, 0, -1.5, True, "x", "SHIPPED", "lower", "Mixed_Case", "BAGGAGE", "FLIGHT",
    "2025-02-30T10:00:00.000Z", "2025-03-01T10:00Z", "2025-03-01T24:00:00.000Z",
    "2024-02-29T10:00:00.000Z", "2023-02-29T10:00Z", "N" * 129, [None], [""], {"a": 1},
    "EUR", "eur", "EN", "ADULT", "not-a-uuid", "x@example.com", ["+1"], [{"referenceId": "x"}],
    [{"name": "ext", "key": "default"}], [{"name": "ext", "key": "default", "bad-name": 1}],
    -0.0, 1e-7, 1e21, 2**63, 10**400,
]
# The keys a fault adds: unknown to every model, near a known one, or known elsewhere.
EXTRA_KEYS = ["extra", "reference", "referenceid", "orderContact", "status", "flightSegments",
              "consumerTypeCode", "cardType", "name", "key", "x-y"]


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value inside a record (dict keys and list indexes)."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


def _container(record: Any, path: tuple) -> Any:
    for part in path:
        record = record[part]
    return record


@st.composite
def record_faults(draw: st.DrawFn) -> str:
    """A line whose record has one fault: a value replaced or removed, or a key added."""
    record = copy.deepcopy(draw(valid_records()))
    paths = _paths(record)[1:]
    path = draw(st.sampled_from(paths))
    parent = _container(record, path[:-1])
    kind = draw(st.sampled_from(["replace", "remove", "add"]))
    if kind == "replace":
        parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))
    elif kind == "remove":
        del parent[path[-1]]
    else:
        target = parent if isinstance(parent, dict) else _container(record, path)
        if isinstance(target, dict):
            target[draw(st.sampled_from(EXTRA_KEYS))] = draw(st.sampled_from(REPLACEMENTS[:10]))
    if record.get("mode") not in ("insert", "delete"):
        record["mode"] = "insert"  # a mode fault is a change by design: tested on its own
    return canonical_json(record)


def _text_faults(line: str, kind: str) -> bytes:
    """A fault in the bytes of a valid line."""
    if kind == "duplicate key":
        return line.replace('"referenceId":', '"referenceId":"X","referenceId":', 1).encode()
    if kind == "nested duplicate key":
        return line.replace('{"provider":', '{"provider":"DUP","provider":', 1).replace(
            '"orderedAt":', '"orderedAt":"DUP","orderedAt":', 1).encode()
    if kind == "NaN":
        return re.sub(r'"price":[^,}]+', '"price":NaN', line, count=1).encode()
    if kind == "spaces":
        return line.replace(",", ", ", 3).encode()
    if kind == "money as written":
        return re.sub(r'"price":(-?\d+)(?=[,}])', r'"price":\1.00', line).encode()
    if kind == "exponent":
        return re.sub(r'"price":[^,}]+', '"price":1e2', line, count=1).encode()
    if kind == "escaped":
        return line.replace("e", "\\u0065", 2).encode()
    if kind == "key order":
        record = json.loads(line)
        return canonical_json(dict(reversed(list(record.items())))).encode()
    if kind == "CR LF":
        return line.encode() + b"\r"
    if kind == "not UTF-8":
        return line.encode()[:-2] + b"\xff}"
    if kind == "blank":
        return b"  "
    if kind == "not an object":
        return b"[1,2]"
    if kind == "truncated":
        return line.encode()[:-1]
    raise ValueError(kind)


TEXT_FAULTS = ["duplicate key", "nested duplicate key", "NaN", "spaces", "money as written",
               "exponent", "escaped", "key order", "CR LF", "not UTF-8", "blank",
               "not an object", "truncated"]


@st.composite
def text_faults(draw: st.DrawFn) -> bytes:
    line = canonical_json(draw(valid_records()))
    return _text_faults(line, draw(st.sampled_from(TEXT_FAULTS)))


def faulty_lines() -> st.SearchStrategy[bytes]:
    """One fault of any kind, as a line's bytes without its LF."""
    return st.one_of(record_faults().map(str.encode), text_faults())
