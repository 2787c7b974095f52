"""The mart built from the sample warehouse: where each order goes, and its bytes."""

from __future__ import annotations

import uuid
from decimal import Decimal

import duckdb
import pytest

from canonical_json import canonical, parse
from cdp_loader.sample_warehouse import SHOWCASE_CASES

QUARANTINE_REASONS = (
    "invalid_ordered_at", "missing_reference", "reference_collision", "unmapped_status",
    "missing_point_of_sale", "invalid_currency", "missing_price", "no_items",
    "invalid_item", "no_contact",
)

# Hand-checked against raw_warehouse.md from the raw rows of the showcase.
SHOWCASE_RECORDS = {
    # A flight of three segments written out of order, with other offsets.
    115: '{"ref":"8c1a2e6a-a9bb-5d45-89b9-928c337ea983","schema":"order","mode":"insert","value":{"referenceId":"SHOW115","channel":"WEB","pointOfSale":"spinair.com","status":"CONFIRMED","orderedAt":"2023-09-07T09:15:11.000Z","currencyCode":"EUR","price":180.00,"paymentType":"Card","cardType":"Visa","contact":{"title":"Ms","firstName":"Ann","lastName":"Lee","gender":"female","dateOfBirth":"1985-12-24T00:00Z","email":"ann.lee@example.com","phoneNumbers":["+35316123345"],"identifiers":[{"provider":"CRM","id":"CRM-S0000000"}]},"consumers":[{"title":"Ms","firstName":"Ann","lastName":"Lee","identifiers":[{"provider":"CRM","id":"CRM-S0000000"}],"orderItems":[{"referenceId":"SHOW115-1"}]}],"orderItems":[{"type":"FLIGHT","productId":"DUB-LAS","name":"Flight DUB to LAS","description":"Spinair flight DUB - LAS","vendor":"Spinair","orderedAt":"2023-09-07T09:15:11.000Z","quantity":1,"price":180.00,"currencyCode":"EUR","referenceId":"SHOW115-1","status":"CONFIRMED","channel":"WEB","language":"EN","consumerTypeCode":"ADT","flightSegments":[{"id":"11501-2","origin":"DUB","destination":"LHR","departureDateTime":"2023-08-15T06:00Z","arrivalDateTime":"2023-08-15T07:20Z","flightNumber":"459","fareClass":"Economy","fareFamily":"Plus","carrier":"FR","originDestination":"DUB-LHR"},{"id":"11501-3","origin":"LHR","destination":"JFK","departureDateTime":"2023-08-15T11:00Z","arrivalDateTime":"2023-08-15T14:00Z","flightNumber":"117","fareClass":"Premium-economy","carrier":"BA","originDestination":"LHR-JFK"},{"id":"11501-1","origin":"JFK","destination":"LAS","departureDateTime":"2023-08-16T09:00Z","arrivalDateTime":"2023-08-16T11:40Z","flightNumber":"105","fareClass":"First Class","fareFamily":"Plus","carrier":"EI","originDestination":"JFK-LAS"}]}]}}',  # noqa: E501
    # Every extension quirk: kept, typed, collided, dropped.
    169: '{"ref":"adab6ba6-985a-5d27-8dd1-303028977698","schema":"order","mode":"insert","value":{"referenceId":"SHOW169","channel":"WEB","pointOfSale":"spinair.com","status":"CONFIRMED","orderedAt":"2023-01-03T09:15:11.000Z","currencyCode":"EUR","price":180.00,"paymentType":"Card","cardType":"Visa","contact":{"title":"Ms","firstName":"Ann","lastName":"Lee","gender":"female","dateOfBirth":"1985-12-24T00:00Z","email":"ann.lee@example.com","phoneNumbers":["+35316123345"],"identifiers":[{"provider":"CRM","id":"CRM-S0000000"}]},"consumers":[{"title":"Ms","firstName":"Ann","lastName":"Lee","identifiers":[{"provider":"CRM","id":"CRM-S0000000"}],"orderItems":[{"referenceId":"SHOW169-1"}]}],"orderItems":[{"type":"FLIGHT","productId":"DUB-LAS","name":"Flight DUB to LAS","description":"Spinair flight DUB - LAS","vendor":"Spinair","orderedAt":"2023-01-03T09:15:11.000Z","quantity":1,"price":180.00,"currencyCode":"EUR","referenceId":"SHOW169-1","status":"CONFIRMED","channel":"WEB","language":"EN","consumerTypeCode":"ADT","flightSegments":[{"id":"16901-1","origin":"DUB","destination":"LAS","departureDateTime":"2023-08-15T16:00Z","arrivalDateTime":"2023-08-15T19:30Z","flightNumber":"459","fareClass":"Economy","fareFamily":"Plus","carrier":"FR","originDestination":"DUB-LAS"}]}],"extensions":[{"name":"ext","key":"default","3dsVerified":false,"bagsCount":7,"bookedAt":"2025-03-07T16:15:11.000Z","emptyNote":"","loyaltyTier":"Gold","paddedText":"  kept as is  ","refundAmount":0,"returnDate":"2025-01-02T00:00:00.000Z","seat2ndRow":5.5,"seatMapViewed":true,"utmSource":"newsletter"}]}}',  # noqa: E501
    # An erased order: its current version's referenceId and orderedAt.
    174: '{"ref":"a8593cdc-b4ad-5997-90d7-2625ffe375f1","schema":"order","mode":"delete","value":{"referenceId":"SHOW174","orderedAt":"2023-01-13T09:15:11.000Z"}}',  # noqa: E501
}


def _place_of(mart: duckdb.DuckDBPyConnection, order_id: int) -> str:
    places = mart.execute(
        """
        select 'shipped' from cdp.cdp_orders where order_id = $id
        union all select 'deleted' from cdp.cdp_order_deletes where order_id = $id
        union all select 'excluded' from cdp.cdp_order_exclusions where order_id = $id
        union all select 'quarantined:' || reason from cdp.cdp_order_quarantine
            where order_id = $id
        """,
        {"id": order_id},
    ).fetchall()
    assert len(places) == 1, f"order {order_id} is in {places}"
    return places[0][0]


@pytest.mark.parametrize("case", SHOWCASE_CASES, ids=lambda case: case.name)
def test_showcase_order_lands_where_the_rules_send_it(mart, case) -> None:
    assert _place_of(mart, case.order_id) == case.expected


@pytest.mark.parametrize("order_id", sorted(SHOWCASE_RECORDS))
def test_hand_checked_records_are_exact(mart, order_id: int) -> None:
    record = mart.execute(
        "select record from cdp.cdp_batch_records where order_id = ?", [order_id]
    ).fetchone()[0]
    assert record == SHOWCASE_RECORDS[order_id]


def test_every_quarantine_reason_is_exercised(mart) -> None:
    rows = mart.execute("select distinct reason from cdp.cdp_order_quarantine").fetchall()
    reasons = {reason for (reason,) in rows}
    assert reasons == set(QUARANTINE_REASONS)


def test_reasons_list_every_rule_broken_in_precedence(mart) -> None:
    by_name = {case.name: case.order_id for case in SHOWCASE_CASES}
    reasons = dict(mart.execute(
        "select order_id, reasons from cdp.cdp_order_quarantine where order_id in (?, ?, ?)",
        [by_name["point_of_sale_before_currency"], by_name["invalid_ordered_at_before_reference"],
         by_name["deleted_invalid_ordered_at"]],
    ).fetchall())
    assert reasons == {
        by_name["point_of_sale_before_currency"]:
            "missing_point_of_sale,invalid_currency,missing_price,no_items,no_contact",
        by_name["invalid_ordered_at_before_reference"]: "invalid_ordered_at,missing_reference",
        # A delete needs nothing else: only the first three rules apply.
        by_name["deleted_invalid_ordered_at"]: "invalid_ordered_at",
    }


def test_counts_reconcile_with_the_raw_current_orders(mart) -> None:
    raw_current = mart.execute("select count(distinct order_id) from raw.orders").fetchone()[0]
    row = mart.execute(
        "select current_orders, shipped_orders + deleted_orders + excluded_orders"
        " + quarantined_orders, unaccounted_orders from cdp.cdp_order_reconciliation"
    ).fetchone()
    assert row == (raw_current, raw_current, 0)


def test_deletes_are_the_erased_orders_that_break_no_delete_rule(mart) -> None:
    expected = mart.execute(
        """
        with current_orders as (
            select * from raw.orders
            qualify row_number() over (partition by order_id order by updated_at desc) = 1
        )
        select order_id from current_orders
        where deleted_at is not null and not is_test
            and order_id not in (select order_id from cdp.cdp_order_quarantine)
        order by order_id
        """
    ).fetchall()
    deletes = mart.execute(
        "select order_id from cdp.cdp_order_deletes order by order_id"
    ).fetchall()
    assert deletes == expected
    assert len(deletes) > 10


def test_batch_records_are_deletes_then_inserts_by_order_id(mart) -> None:
    rows = mart.execute(
        "select seq, mode, order_id from cdp.cdp_batch_records order by seq"
    ).fetchall()
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    assert rows == sorted(rows, key=lambda row: (row[1] != "delete", row[2]))


def test_every_ref_is_the_uuid5_of_its_schema_mode_and_value(mart) -> None:
    records = mart.execute("select ref, mode, record from cdp.cdp_batch_records").fetchall()
    for ref, mode, record in records:
        value = record[record.index('"value":') + len('"value":'):-1]
        assert ref == str(uuid.uuid5(uuid.NAMESPACE_URL, f"cdp-orders:order:{mode}:{value}"))


def test_every_record_is_in_canonical_bytes(mart) -> None:
    for (record,) in mart.execute("select record from cdp.cdp_batch_records").fetchall():
        assert canonical(parse(record)) == record


def test_money_always_has_two_decimals(mart) -> None:
    for (record,) in mart.execute(
        "select record from cdp.cdp_batch_records where mode = 'insert' using sample 300 rows"
    ).fetchall():
        value = parse(record)["value"]
        prices = [value["price"]] + [item["price"] for item in value["orderItems"]]
        assert all(isinstance(p, Decimal) and p.as_tuple().exponent == -2 for p in prices)


def test_dropped_extension_attributes_are_counted_per_order(mart) -> None:
    by_name = {case.name: case.order_id for case in SHOWCASE_CASES}
    counts = dict(mart.execute(
        "select order_id, (extension_attributes_sent, extension_attributes_dropped)"
        " from cdp.cdp_orders where order_id in (?, ?)",
        [by_name["attribute_quirks"], by_name["attributes_over_50"]],
    ).fetchall())
    assert counts[by_name["attribute_quirks"]] == (11, 8)
    assert counts[by_name["attributes_over_50"]] == (50, 10)
