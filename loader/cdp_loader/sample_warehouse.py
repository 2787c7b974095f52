"""Fill the raw warehouse tables of a DuckDB file with realistic travel-retail data.

`generate(database, orders, seed)` drops and recreates the tables of schema `raw`
(the DDL of `raw_warehouse.sql`, nothing else is touched) and fills them with two
kinds of orders:

* The showcase block, order_ids 1-999: hand-written orders, one per dirty case of
  `raw_warehouse.md`, the same whatever the seed or size. `SHOWCASE_CASES` names
  each with the outcome the mart must give it ('shipped', 'deleted', 'excluded' or
  'quarantined:<first reason>'). Their references ('SHOW01', 'COLL24', ...) always
  hold an 'O', '0' or '1', letters the bulk references never use.
* The bulk, order_ids from 1000: `orders` generated orders, built entirely in
  DuckDB SQL (the files of `sample_sql/`, run in name order), never row by row.

How randomness is derived: every choice is `hash(seed, key, salt)` (DuckDB's hash),
where the key names the row (the order index, an order_line_id, a customer number)
and the salt names the decision ('status', 'lines', 'price', ...). So each choice
is independent of the others and of the order rows are produced in, and the same
seed and size always give the same table contents (with the pinned DuckDB: its
hash function is not promised to stay the same across versions). The bulk is
staged in temporary tables, broken there (`40_dirty.sql`), then copied into
schema raw. Booking references are a
bijection of the order index (an odd multiplier modulo 2^30), so bulk orders only
share a reference where a dirty case copies one on purpose.

Volumes (bulk): about 2.5 lines per order (1-4), 1.6 segments per flight line,
1.3 passengers per order, 0-6 attributes per order, 20% of lines with attributes,
0.6 customers per order, 4-5% of orders and lines with older versions, 0.2% with
a version tied on updated_at, 1% deleted, 0.5% test orders, refunds with negative
totals. Harmless variety everywhere: every accepted ordered_at form (Z, +01:00,
+0100, +01, a space for T, fractions of 1, 3 and 6 digits, no seconds), status,
channel, payment and card synonyms in any case and padded, lower-case or padded
references, brands and currencies, non-ASCII names, many phone formats.

Dirty cases (3% of bulk orders, one case each, plus the showcase, which holds
every one of them at any size):

* references: padded and lower case; empty or blank; colliding within 24 h,
  exactly 24 h apart (collides), 24 h + 1 s apart (does not), under a
  millisecond past 24 h (collides), a chain of three, a deleted order and a test
  order in a group; reused more than 24 h apart.
* ordered_at: every accepted form; unparseable: no offset, a date alone,
  lower-case z, the basic format, a 7-digit fraction.
* status: synonyms in any case and padded, unmapped, null, empty; item status
  null (UNKNOWN) or unmapped; channel synonyms, unmapped codes, null.
* brand_domain null, empty, padded, mixed case; currency lower case, padded,
  invalid ('XXY'), null, on orders and on lines; null total_amount and unit_price;
  original price and currency both, either alone, or a bad original currency.
* payment methods and card brands in every variant, unknown ones, card with a
  null brand; locales 'en-IE', 'fr_FR', 'de', 'pt-BR', '', null, 'xx-YY'.
* lines: product types 'car hire' (unmapped) and 'car_hire', 'Checked Bag',
  unknown types; null, empty or blank product_code; names over 128 characters,
  empty and null names, null descriptions and vendors; null or unparseable
  created_at; null quantity; duplicate (also after trimming) and empty
  line_reference; every passenger type, missing or invalid on a FLIGHT line,
  invalid on another line; passenger_index null or pointing at no passenger;
  orders with no lines; FLIGHT lines with no segments.
* segments: flight numbers 'FR 0459', 'FR459', '459', 'U2 1234' (carrier U2),
  '0', 'FR', null; lower-case airports and carriers; missing carrier; null fare
  class; unparseable departure; arrival offset unlike the departure's; segments
  on a non-flight line.
* customers: titles 'mr', 'Mrs.', 'MS', 'Dr', '', null, 'Lord', unknown ones;
  padded and non-ASCII names; every gender form; emails mixed case, padded,
  invalid; phones in many formats, too short, too long, secondary = primary;
  customer_id null or matching no customer; customers with neither a valid email
  nor an identifier; identifiers duplicated with different expiries (one null),
  expired, with a blank provider or id; passengers without any name.
* attributes (orders and lines): names that camelCase ('Loyalty tier',
  'UTM_SOURCE', 'seat-map viewed', '3ds verified', 'seat 2nd row'), names that
  normalise alike, names empty after normalising ('---'), value types in any case
  and padded, unknown value types, null values, numbers '5.50', '007', '-0.00',
  '1e5', 'abc', booleans 'TRUE', 'false', 'yes', dates, timestamps, invalid
  dates, empty strings; an order with 60 distinct attributes.
* versions: older versions that are worse or better than the current one, a
  deleted latest version, an undeleted one, ties on updated_at broken by a null
  or by code-point order, on orders and on lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cdp_loader.records import attach_warehouse

RAW_TABLES = (
    "customers",
    "customer_identifiers",
    "orders",
    "order_lines",
    "flight_segments",
    "order_passengers",
    "order_attributes",
    "order_line_attributes",
)
BULK_FIRST_ORDER_ID = 1000
CUSTOMERS_PER_ORDER = 0.6

# The dbt profile's cap, so that generator and build are bounded alike.
MEMORY_LIMIT_VARIABLE = "CDP_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "6GB"
_HERE = Path(__file__).parent
_DDL = _HERE / "raw_warehouse.sql"
_BULK_SQL = sorted((_HERE / "sample_sql").glob("*.sql"))


@dataclass(frozen=True)
class ShowcaseCase:
    """A hand-written order and the outcome raw_warehouse.md gives it."""

    name: str
    order_id: int
    description: str
    expected: str  # 'shipped', 'deleted', 'excluded' or 'quarantined:<first reason>'


def generate(database: Path, orders: int, seed: int = 42) -> dict[str, int]:
    """(Re)create schema raw in `database` with the showcase and `orders` bulk orders.

    Returns the row count of every raw table. Statements commit one by one: in
    one transaction DuckDB appends to new tables on a single thread, twice as
    slow. A failure part way leaves partial tables; running again replaces them.
    """
    if orders < 0:
        raise ValueError("orders must be >= 0")
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    with attach_warehouse(database, read_only=False) as con:
        # Casts between timestamp and timestamptz must not depend on the machine.
        con.execute("set TimeZone = 'UTC'")
        # DuckDB would take 80% of the machine (19.7 GiB at 10M orders); past
        # the cap it spills to disk.
        memory_limit = os.environ.get(MEMORY_LIMIT_VARIABLE) or DEFAULT_MEMORY_LIMIT
        con.execute("set memory_limit = ?", [memory_limit])
        _recreate_tables(con)
        _insert_showcase(con)
        if orders > 0:
            _insert_bulk(con, orders, int(seed))
        return {
            table: con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in RAW_TABLES
        }


def _recreate_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in RAW_TABLES:
        con.execute(f"drop table if exists raw.{table}")
    con.execute(_DDL.read_text(encoding="utf-8"))


def _insert_bulk(con: duckdb.DuckDBPyConnection, orders: int, seed: int) -> None:
    placeholders = {
        # Parenthesised: a negative seed must stay one operand.
        "{seed}": f"({seed})",
        "{orders}": str(orders),
        "{customers}": str(max(1, int(orders * CUSTOMERS_PER_ORDER))),
    }
    for path in _BULK_SQL:
        sql = path.read_text(encoding="utf-8")
        for placeholder, value in placeholders.items():
            sql = sql.replace(placeholder, value)
        con.execute(sql)


def _insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence[Any]]
) -> None:
    """Insert literal rows with one parameterised VALUES statement."""
    if not rows:
        return
    width = len(rows[0])
    row_marks = "(" + ", ".join("?" * width) + ")"
    sql = f"insert into raw.{table} values " + ", ".join([row_marks] * len(rows))
    con.execute(sql, [value for row in rows for value in row])


# --------------------------------------------------------------------------
# The showcase: one hand-written order per case, built from a clean template.

_UPDATED = "2023-12-01 00:00:00+00"
_ORDER_COLUMNS = (
    "order_id", "booking_reference", "brand_domain", "customer_id", "ordered_at",
    "updated_at", "status", "sales_channel", "currency", "total_amount",
    "payment_method", "card_brand", "locale", "is_test", "deleted_at",
)
_LINE_COLUMNS = (
    "order_line_id", "order_id", "line_reference", "product_type", "product_code",
    "product_name", "product_description", "vendor", "created_at", "updated_at",
    "quantity", "unit_price", "line_currency", "original_unit_price",
    "original_currency", "status", "passenger_type", "passenger_index",
)
_SEGMENT_COLUMNS = (
    "segment_id", "order_line_id", "segment_number", "origin", "destination",
    "departure_at", "arrival_at", "carrier", "flight_number", "fare_class", "fare_family",
)
_CUSTOMER_COLUMNS = (
    "customer_id", "title", "first_name", "last_name", "gender", "birth_date", "email",
    "phone_primary", "phone_secondary", "created_at", "updated_at",
)
_PASSENGER_COLUMNS = (
    "order_id", "passenger_index", "title", "first_name", "last_name", "customer_id",
)
_SHARED_CUSTOMER = "S0000000"


@dataclass(frozen=True)
class _Spec:
    """What a showcase order changes in the clean template."""

    case: ShowcaseCase
    order: Mapping[str, Any] = field(default_factory=dict)
    # Each line: overrides of the template flight line, plus optional keys
    # 'segments' (list of overrides), 'versions' (older rows), 'attributes'.
    lines: Sequence[Mapping[str, Any]] | None = None
    passengers: Sequence[Mapping[str, Any]] | None = None
    customer: Mapping[str, Any] | None = None  # a customer of its own, with these overrides
    identifiers: Sequence[tuple[str, str, str | None]] | None = None
    versions: Sequence[Mapping[str, Any]] = ()  # older (or tied) order rows
    attributes: Sequence[tuple[str, str | None, str]] = ()


def _default_ordered_at(order_id: int) -> str:
    day = 1 + (order_id * 2) % 28
    month = 1 + (order_id * 2) // 28 % 12
    return f"2023-{month:02d}-{day:02d}T10:15:11+01:00"


def _order_rows(spec: _Spec, customer_id: str) -> list[tuple]:
    order_id = spec.case.order_id
    base = {
        "order_id": order_id,
        "booking_reference": f"SHOW{order_id:02d}",
        "brand_domain": "spinair.com",
        "customer_id": customer_id,
        "ordered_at": _default_ordered_at(order_id),
        "updated_at": _UPDATED,
        "status": "confirmed",
        "sales_channel": "web",
        "currency": "EUR",
        "total_amount": "180.00",
        "payment_method": "card",
        "card_brand": "visa",
        "locale": "en-IE",
        "is_test": False,
        "deleted_at": None,
    }
    current = {**base, **spec.order}
    rows = [current]
    for number, version in enumerate(spec.versions, start=1):
        older = {**current, "updated_at": f"2023-11-{number:02d} 00:00:00+00", **version}
        rows.append(older)
    return [tuple(row[column] for column in _ORDER_COLUMNS) for row in rows]


def _line_rows(spec: _Spec) -> tuple[list[tuple], list[tuple], list[tuple]]:
    order_id = spec.case.order_id
    reference = f"SHOW{order_id:02d}"
    lines = spec.lines if spec.lines is not None else [{}]
    line_rows: list[tuple] = []
    segment_rows: list[tuple] = []
    attribute_rows: list[tuple] = []
    for number, overrides in enumerate(lines, start=1):
        line_id = order_id * 100 + number
        base = {
            "order_line_id": line_id,
            "order_id": order_id,
            "line_reference": f"{reference}-{number}",
            "product_type": "flight",
            "product_code": "DUB-LAS",
            "product_name": "Flight DUB to LAS",
            "product_description": "Spinair flight DUB - LAS",
            "vendor": "Spinair",
            "created_at": _default_ordered_at(order_id),
            "updated_at": _UPDATED,
            "quantity": 1,
            "unit_price": "180.00",
            "line_currency": "EUR",
            "original_unit_price": None,
            "original_currency": None,
            "status": "confirmed",
            "passenger_type": "ADT",
            "passenger_index": 1,
        }
        extras = {"segments", "versions", "attributes"}
        current = {**base, **{k: v for k, v in overrides.items() if k not in extras}}
        rows = [current]
        for version_no, version in enumerate(overrides.get("versions", ()), start=1):
            rows.append({**current, "updated_at": f"2023-11-{version_no:02d} 00:00:00+00",
                         **version})
        line_rows += [tuple(row[column] for column in _LINE_COLUMNS) for row in rows]
        is_flight = str(current["product_type"]).strip().lower() == "flight"
        segments = overrides.get("segments", [{}] if is_flight else [])
        segment_rows += _segment_rows(line_id, segments)
        attribute_rows += [(line_id, *attribute) for attribute in overrides.get("attributes", ())]
    return line_rows, segment_rows, attribute_rows


def _segment_rows(line_id: int, segments: Iterable[Mapping[str, Any]]) -> list[tuple]:
    rows = []
    for number, overrides in enumerate(segments, start=1):
        base = {
            "segment_id": f"{line_id}-{number}",
            "order_line_id": line_id,
            "segment_number": number,
            "origin": "DUB",
            "destination": "LAS",
            "departure_at": "2023-08-15T16:00:00+01:00",
            "arrival_at": "2023-08-15T19:30:00-07:00",
            "carrier": "FR",
            "flight_number": "FR 0459",
            "fare_class": "economy",
            "fare_family": "Plus",
        }
        row = {**base, **overrides}
        rows.append(tuple(row[column] for column in _SEGMENT_COLUMNS))
    return rows


def _customer_rows(spec: _Spec) -> tuple[str, list[tuple], list[tuple]]:
    """The order's customer_id and, for a customer of its own, its rows."""
    if spec.customer is None:
        return _SHARED_CUSTOMER, [], []
    customer_id = f"S{spec.case.order_id:07d}"
    row = {**_customer_template(customer_id), **spec.customer}
    identifiers = spec.identifiers
    if identifiers is None:
        identifiers = [("CRM", f"CRM-{customer_id}", None)]
    return (
        customer_id,
        [tuple(row[column] for column in _CUSTOMER_COLUMNS)],
        [(customer_id, *identifier) for identifier in identifiers],
    )


def _customer_template(customer_id: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "title": "Ms",
        "first_name": "Ann",
        "last_name": "Lee",
        "gender": "F",
        "birth_date": "1985-12-24",
        "email": "ann.lee@example.com",
        "phone_primary": "+353 1 612 3345",
        "phone_secondary": None,
        "created_at": "2022-01-01 00:00:00+00",
        "updated_at": "2022-06-01 00:00:00+00",
    }


def _passenger_rows(spec: _Spec, customer_id: str) -> list[tuple]:
    passengers = spec.passengers
    if passengers is None:
        passengers = [{}]
    rows = []
    for index, overrides in enumerate(passengers, start=1):
        base = {
            "order_id": spec.case.order_id,
            "passenger_index": index,
            "title": "Ms",
            "first_name": "Ann",
            "last_name": "Lee",
            "customer_id": customer_id if index == 1 else None,
        }
        row = {**base, **overrides}
        rows.append(tuple(row[column] for column in _PASSENGER_COLUMNS))
    return rows


def _insert_showcase(con: duckdb.DuckDBPyConnection) -> None:
    rows: dict[str, list[tuple]] = {table: [] for table in RAW_TABLES}
    rows["customers"].append(tuple(_customer_template(_SHARED_CUSTOMER).values()))
    rows["customer_identifiers"].append((_SHARED_CUSTOMER, "CRM", "CRM-S0000000", None))
    for spec in _SPECS:
        customer_id, customers, identifiers = _customer_rows(spec)
        customer_id = spec.order.get("customer_id", customer_id)
        rows["customers"] += customers
        rows["customer_identifiers"] += identifiers
        rows["orders"] += _order_rows(spec, customer_id)
        lines, segments, line_attributes = _line_rows(spec)
        rows["order_lines"] += lines
        rows["flight_segments"] += segments
        rows["order_line_attributes"] += line_attributes
        rows["order_passengers"] += _passenger_rows(spec, customer_id)
        rows["order_attributes"] += [(spec.case.order_id, *a) for a in spec.attributes]
    for table, table_rows in rows.items():
        _insert_rows(con, table, table_rows)


# --------------------------------------------------------------------------
# The cases. Order ids are given in sequence; a case that needs partners (a
# collision group) spells out references and times.

_specs: list[_Spec] = []


def _case(name: str, expected: str, description: str, **parts: Any) -> None:
    case = ShowcaseCase(name, len(_specs) + 1, description, expected)
    _specs.append(_Spec(case, **parts))


_FLIGHT_ONLY = "flight"
_BAG_LINE = {
    "product_type": "bag", "product_code": "BAG20", "product_name": "Checked bag",
    "product_description": "20 kg", "unit_price": "25.00", "passenger_type": None,
}

_case("clean_flight_order", "shipped", "A clean one-line flight order: the template of the rest.")
_case("reference_padded_lower_case", "shipped", "booking_reference '  show02 ' becomes 'SHOW02'.",
      order={"booking_reference": "  show02 "})
_case("reference_empty", "quarantined:missing_reference", "An empty booking_reference.",
      order={"booking_reference": ""})
_case("reference_blank", "quarantined:missing_reference", "A booking_reference of spaces only.",
      order={"booking_reference": "   "})

# The 24-hour window.
_case("collision_within_24h_a", "quarantined:reference_collision",
      "Same reference as the next order (other case, padded), 22:59:59 apart.",
      order={"booking_reference": "COLL23", "ordered_at": "2023-03-01T10:00:00Z"})
_case("collision_within_24h_b", "quarantined:reference_collision",
      "The partner of collision_within_24h_a.",
      order={"booking_reference": " coll23", "ordered_at": "2023-03-02T08:59:59+00:00"})
_case("collision_exactly_24h_a", "quarantined:reference_collision",
      "Same reference as the next order exactly 24 hours later (other offset): collides.",
      order={"booking_reference": "COLL24", "ordered_at": "2023-03-05T10:00:00Z"})
_case("collision_exactly_24h_b", "quarantined:reference_collision",
      "The partner of collision_exactly_24h_a, written at +01:00.",
      order={"booking_reference": "COLL24", "ordered_at": "2023-03-06T11:00:00+01:00"})
_case("apart_24h_plus_1s_a", "shipped",
      "Same reference as the next order 24 hours and 1 second later: no collision.",
      order={"booking_reference": "COLL25", "ordered_at": "2023-03-09T10:00:00Z"})
_case("apart_24h_plus_1s_b", "shipped", "The partner of apart_24h_plus_1s_a.",
      order={"booking_reference": "COLL25", "ordered_at": "2023-03-10T10:00:01Z"})
_case("collision_under_a_millisecond_a", "quarantined:reference_collision",
      "Same reference as the next order 24 h + 0.9 ms later: cut to milliseconds, exactly 24 h.",
      order={"booking_reference": "COLLMS", "ordered_at": "2023-03-13T10:00:00Z"})
_case("collision_under_a_millisecond_b", "quarantined:reference_collision",
      "The partner of collision_under_a_millisecond_a.",
      order={"booking_reference": "COLLMS", "ordered_at": "2023-03-14T10:00:00.0009Z"})
_case("collision_deleted_member", "quarantined:reference_collision",
      "A deleted order 2 hours from a live one with its reference: quarantined, not a delete.",
      order={"booking_reference": "COLLDL", "ordered_at": "2023-03-17T10:00:00Z",
             "deleted_at": "2023-12-02 00:00:00+00"})
_case("collision_deleted_partner", "quarantined:reference_collision",
      "The live partner of collision_deleted_member.",
      order={"booking_reference": "COLLDL", "ordered_at": "2023-03-17T12:00:00Z"})
_case("collision_with_test_order_test", "excluded",
      "A test order 1 hour from a live order with its reference: excluded.",
      order={"booking_reference": "COLLTS", "ordered_at": "2023-03-21T10:00:00Z", "is_test": True})
_case("collision_with_test_order_live", "shipped",
      "The live partner of a test order: test orders take no part in the window.",
      order={"booking_reference": "COLLTS", "ordered_at": "2023-03-21T11:00:00Z"})
_case("reused_reference_a", "shipped", "A reference used again 30 days later: a distinct order.",
      order={"booking_reference": "REUSE0", "ordered_at": "2023-03-25T10:00:00Z"})
_case("reused_reference_b", "shipped", "The second use of REUSE0, 30 days on.",
      order={"booking_reference": "REUSE0", "ordered_at": "2023-04-24T10:00:00Z"})
for _text, _suffix in (
    ("2023-04-01T10:00:00Z", "a"), ("2023-04-02T06:00:00Z", "b"), ("2023-04-03T02:00:00Z", "c"),
):
    _case(f"collision_chain_{_suffix}", "quarantined:reference_collision",
          "Three orders 20 h apart with one reference: each collides with a neighbour.",
          order={"booking_reference": "CHAIN1", "ordered_at": _text})
_case("collision_outranks_status", "quarantined:reference_collision",
      "A colliding order with a null status: reference_collision comes first.",
      order={"booking_reference": "COLLST", "ordered_at": "2023-04-10T10:00:00Z", "status": None})
_case("collision_outranks_status_partner", "quarantined:reference_collision",
      "The partner of collision_outranks_status.",
      order={"booking_reference": "COLLST", "ordered_at": "2023-04-10T20:00:00Z"})

# ordered_at forms.
for _name, _text in (
    ("zulu", "2023-05-02T09:15:11Z"),
    ("offset_basic", "2023-05-03T10:15:11+0100"),
    ("offset_hours_only", "2023-05-04T10:15:11+01"),
    ("offset_negative", "2023-05-05T04:15:11-05:00"),
    ("offset_half_hour", "2023-05-06T14:45:11+05:30"),
    ("space_separator", "2023-05-07 10:15:11+01:00"),
    ("fraction_1_digit", "2023-05-08T09:15:11.5Z"),
    ("fraction_2_digits", "2023-05-09T10:15:11.25+01:00"),
    ("fraction_3_digits", "2023-05-10T09:15:11.123Z"),
    ("fraction_4_digits", "2023-05-11T09:15:11.1239Z"),
    ("fraction_6_digits", "2023-05-12T09:15:11.123456Z"),
    ("no_seconds", "2023-05-13T10:15+01:00"),
):
    _case(f"ordered_at_{_name}", "shipped", f"ordered_at '{_text}' parses.",
          order={"ordered_at": _text})
for _name, _text in (
    ("no_offset", "2023-05-20T10:15:11"),
    ("date_only", "2023-05-21"),
    ("lower_case_z", "2023-05-22T09:15:11z"),
    ("basic_format", "20230523T091511Z"),
    ("fraction_7_digits", "2023-05-24T09:15:11.1234567Z"),
):
    _case(f"ordered_at_{_name}", "quarantined:invalid_ordered_at",
          f"ordered_at '{_text}' does not parse.", order={"ordered_at": _text})

# Statuses and channels.
_case("status_synonym_padded", "shipped", "status ' Ticketed ' maps to CONFIRMED.",
      order={"status": " Ticketed "})
_case("status_canceled_upper", "shipped", "status 'CANCELED' maps to CANCELLED.",
      order={"status": "CANCELED"}, lines=[{"status": "void"}])
_case("status_refund_negative_total", "shipped", "A refund: status 'refunded', negative prices.",
      order={"status": "refunded", "total_amount": "-180.00"},
      lines=[{"status": "Refunded", "unit_price": "-180.00"}])
_case("status_declined", "shipped", "Order 'payment_failed', item 'DECLINED'.",
      order={"status": "payment_failed"}, lines=[{"status": "DECLINED"}])
_case("status_pending", "shipped", "Order 'awaiting_payment', item 'on_hold' (RESERVED).",
      order={"status": "awaiting_payment"}, lines=[{"status": "on_hold"}])
_case("status_unmapped", "quarantined:unmapped_status", "status 'shipped' is no known code.",
      order={"status": "shipped"})
_case("status_null", "quarantined:unmapped_status", "A null order status.",
      order={"status": None})
_case("status_empty", "quarantined:unmapped_status", "An order status of spaces only.",
      order={"status": "  "})
_case("item_status_null", "shipped", "A null item status becomes UNKNOWN.",
      lines=[{"status": None}])
_case("item_status_unmapped", "quarantined:unmapped_status", "Item status 'in_progress'.",
      lines=[{"status": "in_progress"}])
_case("channel_synonym_padded", "shipped", "sales_channel 'Mobile_Web ' maps to MOBILE_WEB.",
      order={"sales_channel": "Mobile_Web "})
_case("channel_unmapped", "shipped", "sales_channel 'carrier_pigeon' becomes OTHER.",
      order={"sales_channel": "carrier_pigeon"})
_case("channel_null", "shipped", "A null sales_channel becomes OTHER.",
      order={"sales_channel": None})

# Point of sale, currency, prices.
_case("brand_null", "quarantined:missing_point_of_sale", "A null brand_domain.",
      order={"brand_domain": None})
_case("brand_empty", "quarantined:missing_point_of_sale", "An empty brand_domain.",
      order={"brand_domain": ""})
_case("brand_padded_mixed_case", "shipped", "brand_domain '  SpinAir.CO.UK ' → 'spinair.co.uk'.",
      order={"brand_domain": "  SpinAir.CO.UK "})
_case("currency_lower_padded", "shipped", "Order currency ' eur ' and line currency 'eur'.",
      order={"currency": " eur "}, lines=[{"line_currency": "eur"}])
_case("currency_invalid", "quarantined:invalid_currency", "Order currency 'XXY'.",
      order={"currency": "XXY"})
_case("currency_null", "quarantined:invalid_currency", "A null order currency.",
      order={"currency": None})
_case("line_currency_invalid", "quarantined:invalid_currency", "Line currency ' xxy'.",
      lines=[{"line_currency": " xxy"}])
_case("line_currency_null", "quarantined:invalid_currency", "A null line currency.",
      lines=[{"line_currency": None}])
_case("total_null", "quarantined:missing_price", "A null total_amount.",
      order={"total_amount": None})
_case("unit_price_null", "quarantined:invalid_item", "A null unit_price.",
      lines=[{"unit_price": None}])
_case("original_price_and_currency", "shipped", "original_unit_price 196.20 in 'usd'.",
      lines=[{"original_unit_price": "196.20", "original_currency": "usd"}])
_case("original_price_without_currency", "shipped", "An original price alone: both dropped.",
      lines=[{"original_unit_price": "196.20"}])
_case("original_currency_without_price", "shipped", "An original currency alone: both dropped.",
      lines=[{"original_currency": "USD"}])
_case("original_currency_invalid", "shipped", "Original currency 'ZZZ': both dropped.",
      lines=[{"original_unit_price": "196.20", "original_currency": "ZZZ"}])

# Payment and locale: all ship.
for _name, _method, _brand in (
    ("paypal_mixed_case", "PayPal", None),
    ("voucher_upper", "VOUCHER", None),
    ("cash_padded", " cash ", None),
    ("atm", "atm", None),
    ("unknown_method", "bitcoin", None),
    ("null_method", None, None),
    ("card_brand_null", "card", None),
    ("card_brand_upper", "Card", "VISA"),
    ("card_brand_mc", "CARD", "MC"),
    ("card_brand_mastercard", "card", "MasterCard"),
    ("card_brand_amex", "card", "amex"),
    ("card_brand_american_express", "card", " American Express "),
    ("card_brand_diners", "card", "DINERS"),
    ("card_brand_unknown", "card", "discover"),
):
    _case(f"payment_{_name}", "shipped",
          f"payment_method {_method!r} with card_brand {_brand!r}.",
          order={"payment_method": _method, "card_brand": _brand})
for _name, _locale in (
    ("fr_underscore", "fr_FR"), ("language_only", "de"), ("pt_br", "pt-BR"),
    ("empty", ""), ("null", None), ("unknown_language", "xx-YY"),
):
    _case(f"locale_{_name}", "shipped", f"locale {_locale!r}.", order={"locale": _locale})

# Order lines.
for _name, _type in (
    ("car_hire_with_space", "car hire"), ("car_hire_underscore", "car_hire"),
    ("checked_bag", "Checked Bag"), ("unknown", "spa treatment"),
):
    _case(f"product_type_{_name}", "shipped",
          f"A second line of product_type {_type!r} (no passenger, no segments).",
          lines=[{}, {"product_type": _type, "product_code": "EXTRA-1",
                      "product_name": "Extra", "unit_price": "40.00",
                      "passenger_type": None, "passenger_index": None}])
_case("product_code_null", "quarantined:invalid_item", "A null product_code.",
      lines=[{"product_code": None}])
_case("product_code_empty", "quarantined:invalid_item", "An empty product_code.",
      lines=[{"product_code": ""}])
_case("product_code_blank", "quarantined:invalid_item", "A product_code of spaces only.",
      lines=[{"product_code": "   "}])
_case("product_name_over_128", "shipped", "A 180-character product name, cut to 128.",
      lines=[{"product_name": "Flight DUB to LAS " + "with flexible changes " * 8}])
_case("product_name_empty", "shipped", "An empty product name: the productId stands in.",
      lines=[{"product_name": "  "}])
_case("product_name_null", "shipped", "A null product name: the productId stands in.",
      lines=[{"product_name": None}])
_case("product_description_null", "shipped", "A null description: the name stands in.",
      lines=[{"product_description": None}])
_case("vendor_null", "shipped", "A null vendor: the pointOfSale stands in.",
      lines=[{"vendor": None}])
_case("created_at_null", "shipped", "A null line created_at: the order's orderedAt stands in.",
      lines=[{"created_at": None}])
_case("created_at_unparseable", "shipped", "Line created_at '07/03/2023 10:15'.",
      lines=[{"created_at": "07/03/2023 10:15"}])
_case("quantity_null", "shipped", "A null quantity becomes 1.", lines=[{"quantity": None}])
_case("line_reference_duplicate", "quarantined:invalid_item",
      "Two lines with line_reference 'SHOWnn-1'.",
      lines=[{}, {**_BAG_LINE, "line_reference": f"SHOW{len(_specs) + 1:02d}-1"}])
_case("line_reference_duplicate_after_trim", "quarantined:invalid_item",
      "Line references 'X-1' and ' X-1 ' are the same once trimmed.",
      lines=[{"line_reference": "X-1"}, {**_BAG_LINE, "line_reference": " X-1 "}])
_case("line_reference_differs_by_case", "shipped",
      "Line references 'x-1' and 'X-1' differ: case is kept.",
      lines=[{"line_reference": "X-1"}, {**_BAG_LINE, "line_reference": "x-1"}])
_case("line_reference_empty", "quarantined:invalid_item", "An empty line_reference.",
      lines=[{"line_reference": ""}])
_case("passenger_types_all_forms", "shipped",
      "Five flight lines typed 'adult', 'child', 'INFANT', 'ins', ' Chd '.",
      lines=[{"passenger_type": t, "passenger_index": n}
             for n, t in enumerate(("adult", "child", "INFANT", "ins", " Chd "), start=1)],
      passengers=[{}, {"first_name": "Tom"}, {"first_name": "Mia"}, {"first_name": "Bo"},
                  {"first_name": "Cy"}],
      order={"total_amount": "900.00"})
_case("passenger_type_null_on_flight", "quarantined:invalid_item",
      "A FLIGHT line with a null passenger_type.", lines=[{"passenger_type": None}])
_case("passenger_type_invalid_on_flight", "quarantined:invalid_item",
      "A FLIGHT line with passenger_type 'senior'.", lines=[{"passenger_type": "senior"}])
_case("passenger_type_invalid_on_bag", "shipped",
      "passenger_type 'senior' on a BAG line is never sent.",
      lines=[{}, {**_BAG_LINE, "passenger_type": "senior"}])
_case("passenger_index_null", "shipped", "A line with no passenger_index.",
      lines=[{}, {**_BAG_LINE, "passenger_index": None}])
_case("passenger_index_dangling", "shipped", "A line whose passenger_index 7 matches no passenger.",
      lines=[{}, {**_BAG_LINE, "passenger_index": 7}])
_case("no_lines", "quarantined:no_items", "An order without lines.", lines=[])
_case("flight_without_segments", "quarantined:invalid_item", "A FLIGHT line with no segments.",
      lines=[{"segments": []}])
_case("multi_segment_flight", "shipped",
      "Three segments inserted out of order, offsets unlike each other, lower-case codes.",
      lines=[{"product_code": "DUB-LAS", "segments": [
          {"segment_number": 3, "origin": "jfk", "destination": "las", "carrier": "ei",
           "flight_number": "ei 105", "departure_at": "2023-08-16T09:00-04:00",
           "arrival_at": "2023-08-16T11:40-07:00", "fare_class": "first  class"},
          {"segment_number": 1, "origin": "dub", "destination": "lhr",
           "departure_at": "2023-08-15T06:00:00+01:00", "arrival_at": "2023-08-15T07:20:00+01:00"},
          {"segment_number": 2, "origin": "LHR", "destination": "JFK", "carrier": "BA",
           "flight_number": "BA117", "departure_at": "2023-08-15T11:00:00+0100",
           "arrival_at": "2023-08-15T14:00:00-04", "fare_class": "premium-economy",
           "fare_family": None},
      ]}])
for _name, _number, _carrier in (
    ("carrier_prefix_no_space", "FR459", "FR"),
    ("digits_only", "459", "FR"),
    ("other_carrier_prefix", "U2 1234", "U2"),
    ("prefix_of_another_carrier", "EI 0123", "FR"),
):
    _case(f"flight_number_{_name}", "shipped",
          f"flight_number {_number!r} on carrier {_carrier!r}.",
          lines=[{"segments": [{"flight_number": _number, "carrier": _carrier}]}])
for _name, _number in (("zero", "0"), ("carrier_only", "FR"), ("null", None)):
    _case(f"flight_number_{_name}", "quarantined:invalid_item",
          f"flight_number {_number!r}: nothing is left.",
          lines=[{"segments": [{"flight_number": _number}]}])
_case("segment_lower_case_codes", "shipped", "Airports 'dub'/'las' and carrier 'fr' in lower case.",
      lines=[{"segments": [{"origin": "dub", "destination": "las", "carrier": "fr",
                            "flight_number": "fr 0459"}]}])
_case("segment_carrier_null", "quarantined:invalid_item", "A segment with no carrier.",
      lines=[{"segments": [{"carrier": None}]}])
_case("segment_fare_class_null", "quarantined:invalid_item", "A segment with no fare class.",
      lines=[{"segments": [{"fare_class": None}]}])
_case("segment_departure_unparseable", "quarantined:invalid_item",
      "A segment departing '2023-08-15T16:00' (no offset).",
      lines=[{"segments": [{"departure_at": "2023-08-15T16:00"}]}])
_case("segment_on_hotel_line", "shipped", "A hotel line with a stray segment: ignored.",
      lines=[{}, {"product_type": "hotel", "product_code": "HTL-LAS-001",
                  "product_name": "Hotel stay in LAS", "passenger_type": None,
                  "passenger_index": None, "segments": [{"carrier": None}]}])

# Customers and contact.
for _name, _title in (
    ("mr_lower", "mr"), ("mrs_dot", "Mrs."), ("ms_upper", "MS"), ("dr", "Dr"),
    ("empty", ""), ("null", None), ("lord", "Lord"), ("unknown", "Captain"),
):
    _case(f"title_{_name}", "shipped", f"Customer and passenger title {_title!r}.",
          customer={"title": _title}, passengers=[{"title": _title}])
_case("names_padded_non_ascii", "shipped", "Names '  Zoë ', 'Ōtani  ' and passenger 'Seán'.",
      customer={"first_name": "  Zoë ", "last_name": "Ōtani  "},
      passengers=[{"first_name": "  Zoë ", "last_name": "Ōtani  "},
                  {"first_name": "Seán", "last_name": "Ó Briain"}])
for _gender in ("M", "f", "male", "FEMALE", "U", "X", "unknown", "", None, "other"):
    _case(f"gender_{str(_gender).lower() or 'empty'}", "shipped", f"gender {_gender!r}.",
          customer={"gender": _gender})
_case("email_mixed_case_padded", "shipped", "email '  Ann.Lee@Example.COM '.",
      customer={"email": "  Ann.Lee@Example.COM "})
_case("email_invalid_with_identifier", "shipped",
      "email 'ann.lee(at)example.com' but a CRM identifier.",
      customer={"email": "ann.lee(at)example.com"})
_case("email_null_with_identifier", "shipped", "No email, a CRM identifier.",
      customer={"email": None})
_case("email_invalid_no_identifier", "quarantined:no_contact",
      "email 'ann.lee@example' (no dot after @) and no identifier.",
      customer={"email": "ann.lee@example"}, identifiers=[])
_case("email_with_space_no_identifier", "quarantined:no_contact",
      "email 'ann lee@example.com' (a space) and no identifier.",
      customer={"email": "ann lee@example.com"}, identifiers=[])
for _name, _primary, _secondary in (
    ("spaces", "+353 1 612 3345", "+353 86 112 3311"),
    ("brackets_dashes", "(086) 112-3311", "086.112.3311"),
    ("plain_digits", "0861123311", None),
    ("us_dashes", "+1-702-555-0134", None),
    ("too_short", "12345", "+353 86 112 3311"),
    ("too_long", "+35312345678901234", None),
    ("secondary_duplicates_primary", "+353 1 612 3345", "+353-1-612-3345"),
    ("letters", "call me", None),
):
    _case(f"phone_{_name}", "shipped", f"phones {_primary!r} and {_secondary!r}.",
          customer={"phone_primary": _primary, "phone_secondary": _secondary})
_case("customer_id_null", "quarantined:no_contact", "An order with no customer_id.",
      order={"customer_id": None}, passengers=[{"customer_id": None}])
_case("customer_id_unknown", "quarantined:no_contact",
      "customer_id 'S9999999' matches no customer.",
      order={"customer_id": "S9999999"}, passengers=[{"customer_id": None}])
_case("identifiers_duplicated", "shipped",
      "CRM-1 twice (one expiring, one not), a Loyalty Program id twice with two expiries.",
      customer={},
      identifiers=[("CRM", "CRM-1", "2024-01-01 00:00:00+00"), ("CRM", "CRM-1", None),
                   ("Loyalty Program", "SPN1", "2024-01-01 00:00:00+00"),
                   ("Loyalty Program", "SPN1", "2026-01-01 00:00:00+00"),
                   ("IDENTITY_SYSTEM", "6B29FC40-CA47-1067-B31D-00DD010662DA", None)])
_case("identifier_expired_only", "shipped",
      "An invalid email and one expired identifier: expired ones still count.",
      customer={"email": "n/a"},
      identifiers=[("Loyalty Program", "SPN2", "2020-01-01 00:00:00+00")])
_case("identifier_padded", "shipped", "Identifier ' CRM ' / ' CRM-3 ' with spaces, invalid email.",
      customer={"email": ""}, identifiers=[(" CRM ", " CRM-3 ", None)])
_case("identifier_blank_provider", "quarantined:no_contact",
      "An invalid email and one identifier whose provider is spaces: dropped.",
      customer={"email": "n/a"}, identifiers=[("   ", "CRM-4", None)])
_case("identifier_blank_id", "quarantined:no_contact",
      "No email and one identifier whose id is spaces: dropped.",
      customer={"email": None}, identifiers=[("CRM", "  ", None)])
_case("passenger_without_name", "shipped", "A second passenger with no names, only a title.",
      passengers=[{}, {"title": "Mr", "first_name": None, "last_name": " "}])
_case("passenger_last_name_only", "shipped", "A passenger with only a last name.",
      passengers=[{"title": None, "first_name": "", "last_name": "Lee"}])

# Extensions.
_case("attribute_quirks", "shipped",
      "Attributes that camelCase, collide, drop or keep, every value type and quirk.",
      attributes=[
          ("Loyalty tier", "Gold", "string"),
          ("UTM_SOURCE", "newsletter", "string"),
          ("utm source", "loses-to-UTM_SOURCE", "string"),
          ("seat-map viewed", "TRUE", "boolean"),
          ("3ds verified", "false", " BOOLEAN"),
          ("seat 2nd row", "5.50", "Number "),
          ("bags count", "007", "number"),
          ("refund amount", "-0.00", "NUMBER"),
          ("miles earned", "1e5", "number"),
          ("score", "abc", "number"),
          ("opted in", "yes", "boolean"),
          ("return date", "2025-01-02", "date"),
          ("booked at", "2025-03-07T17:15:11+01:00", "Date"),
          ("bad date", "2025-02-30", "date"),
          ("---", "dropped", "string"),
          ("note", None, "string"),
          ("empty note", "", "string"),
          ("padded text", "  kept as is  ", "string"),
          ("widget", '{"a": 1}', "json"),
      ])
_case("attributes_over_50", "shipped", "60 distinct attributes: the first 50 by name are kept.",
      attributes=[(f"custom field {n:02d}", str(n), "number") for n in range(1, 61)])
_case("line_attribute_quirks", "shipped", "Line attributes with the same quirks as the order's.",
      lines=[{"attributes": [
          ("Fare Basis", "KOWEB", "string"),
          ("fare_basis", "YFLEX", "string"),
          ("!!!", "dropped", "string"),
          ("bag weight", "20kg", "number"),
          ("priority", "Y", "boolean"),
          ("checked in", "FALSE", "Boolean"),
          ("legroom", None, "string"),
          ("seat row", "07", "NUMBER "),
          ("check-in date", "2023-08-15", "date"),
      ]}])

# Precedence of outcomes.
_case("test_order_with_every_fault", "excluded",
      "A test order with a bad time, no reference, no status, no lines, no customer.",
      order={"is_test": True, "ordered_at": "2023-07-01", "booking_reference": "",
             "status": None, "customer_id": None}, lines=[], passengers=[])
_case("test_order_deleted", "excluded", "A deleted test order: excluded, no delete.",
      order={"is_test": True, "deleted_at": "2023-12-02 00:00:00+00"})
_case("deleted_clean", "deleted", "A deleted order becomes an order delete.",
      order={"deleted_at": "2023-12-02 00:00:00+00"})
_case("deleted_with_other_faults", "deleted",
      "A deleted order with no status, brand, currency, price, lines or customer.",
      order={"deleted_at": "2023-12-02 00:00:00+00", "status": None, "brand_domain": None,
             "currency": "XXY", "total_amount": None, "customer_id": None},
      lines=[], passengers=[])
_case("deleted_invalid_ordered_at", "quarantined:invalid_ordered_at",
      "A deleted order whose ordered_at has no offset.",
      order={"deleted_at": "2023-12-02 00:00:00+00", "ordered_at": "2023-07-09T10:15:11"})
_case("deleted_missing_reference", "quarantined:missing_reference",
      "A deleted order with an empty reference.",
      order={"deleted_at": "2023-12-02 00:00:00+00", "booking_reference": " "})
_case("invalid_ordered_at_before_reference", "quarantined:invalid_ordered_at",
      "Unparseable ordered_at and an empty reference.",
      order={"ordered_at": "2023-07-13", "booking_reference": ""})
_case("point_of_sale_before_currency", "quarantined:missing_point_of_sale",
      "No brand, currency 'XXY', no total, no lines, no customer.",
      order={"brand_domain": None, "currency": "XXY", "total_amount": None,
             "customer_id": None}, lines=[], passengers=[])
_case("currency_before_price", "quarantined:invalid_currency", "Currency 'XXY' and no total.",
      order={"currency": "XXY", "total_amount": None})
_case("item_currency_before_price", "quarantined:invalid_currency",
      "A null line currency and no total.",
      order={"total_amount": None}, lines=[{"line_currency": None}])
_case("price_before_items", "quarantined:missing_price", "No total and no lines.",
      order={"total_amount": None}, lines=[])
_case("items_before_contact", "quarantined:no_items", "No lines and no customer.",
      order={"customer_id": None}, lines=[], passengers=[])
_case("invalid_item_before_contact", "quarantined:invalid_item",
      "A null unit_price and no customer.",
      order={"customer_id": None}, lines=[{"unit_price": None}], passengers=[])
_case("item_status_before_point_of_sale", "quarantined:unmapped_status",
      "An unmapped item status and no brand.",
      order={"brand_domain": None}, lines=[{"status": "WAITLISTED"}])

# Versions.
_case("versions_latest_clean", "shipped",
      "Three versions; the two older ones have no status and no brand.",
      versions=[{"status": None, "brand_domain": None}, {"status": "pending", "brand_domain": ""}])
_case("versions_latest_unmapped", "quarantined:unmapped_status",
      "Two versions; the older is clean, the latest has status 'shipped'.",
      order={"status": "shipped"}, versions=[{"status": "confirmed"}])
_case("versions_latest_deleted", "deleted", "Two versions; the latest is deleted.",
      order={"deleted_at": "2023-12-02 00:00:00+00"}, versions=[{"deleted_at": None}])
_case("versions_undeleted", "shipped", "Two versions; the older was deleted, the latest is not.",
      versions=[{"deleted_at": "2023-11-02 00:00:00+00"}])
_case("version_tie_null_wins", "quarantined:unmapped_status",
      "Two versions with one updated_at, status 'confirmed' and null: null sorts last, wins.",
      versions=[{"updated_at": _UPDATED, "status": None}])
_case("version_tie_code_point_order", "shipped",
      "Tied versions with status 'Xyz' and 'confirmed': 'confirmed' sorts last by code point.",
      versions=[{"updated_at": _UPDATED, "status": "Xyz"}])
_case("version_tie_earlier_column_decides", "quarantined:missing_point_of_sale",
      "Tied versions: brand null + status 'confirmed' beats brand set + status 'shipped'.",
      order={"brand_domain": None},
      versions=[{"updated_at": _UPDATED, "brand_domain": "spinair.com", "status": "shipped"}])
_case("line_versions_latest_clean", "shipped",
      "A line with an older version that had no unit_price and status 'bogus'.",
      lines=[{"versions": [{"unit_price": None, "status": "bogus"}]}])
_case("line_versions_latest_unmapped", "quarantined:unmapped_status",
      "A line whose latest version has status 'bogus', the older one 'confirmed'.",
      lines=[{"status": "bogus", "versions": [{"status": "confirmed"}]}])
_case("line_version_tie_null_wins", "quarantined:invalid_item",
      "Tied line versions with product_code 'DUB-LAS' and null: null sorts last, wins.",
      lines=[{"versions": [{"updated_at": _UPDATED, "product_code": None}]}])

_SPECS: tuple[_Spec, ...] = tuple(_specs)
SHOWCASE_CASES: tuple[ShowcaseCase, ...] = tuple(spec.case for spec in _SPECS)
assert SHOWCASE_CASES[-1].order_id < BULK_FIRST_ORDER_ID
