"""The nights of the incremental-equals-full tests: what each day changes in the raw
tables (as DuckDB SQL on a DuckDB copy of them), the orders each change is made to, and
why int_orders_touched must say it touched them.

test_incremental_equals_full.py runs the nights on DuckDB; the engine tests make the
changes to a DuckDB copy and replicate its raw tables into PostgreSQL each night.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import duckdb

from daily_helpers import copy_as_new_order, pick_orders

# Models only: the tests compare tables, and the dbt tests run on the sample elsewhere.
MODELS_ONLY = ("--quiet", "--exclude-resource-type", "test", "--exclude-resource-type",
               "unit_test")
# Not the daily delta either (tables built whole from cdp_batch_records).
BACKFILL = ("--selector", "backfill")
# The orders the latest build touched, with why (comma-separated).
LATEST_TOUCHED = """
    select order_id, touched_because from intermediate.int_orders_touched
    where touched_at = (select max(touched_at) from intermediate.int_orders_touched)
"""
COLLIDED = ("select order_id from cdp.cdp_order_quarantine "
            "where reason = 'reference_collision'")
# Columns that name the build, not the data.
BUILD_COLUMNS = {"seen_at", "reconciled_at", "build_id", "built_at", "built_on"}
# Appended across builds (kept by --full-refresh) or written by the loader.
NOT_REBUILT = {"cdp_build_history", "cdp_quarantine_history", "cdp_shipped_orders",
               "cdp_ship_runs"}
ROLES = ("price", "attribute", "passenger", "segment", "line_attribute", "email",
         "identifier", "erased", "test", "moved", "neighbour", "collider")

Change = Callable[[duckdb.DuckDBPyConnection, dict[str, int]], None]


def _version_at(day: int) -> str:
    return f"2031-02-{day:02d} 00:00:00+00"


def _new_version(connection: duckdb.DuckDBPyConnection, order_id: int, day: int,
                 replacements: str) -> None:
    connection.execute(f"""
        insert into raw.orders
        select * replace ({replacements}, timestamptz '{_version_at(day)}' as updated_at)
        from (select * from raw.orders where order_id = ? order by updated_at desc limit 1)
    """, [order_id])


def _first_line(order_id: int) -> str:
    return f"(select min(order_line_id) from raw.order_lines where order_id = {order_id})"


def day_1(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """New orders, a new version of a line, and rows without a timestamp changed in place."""
    copy_as_new_order(connection, orders["price"], 1, "NIGHTNEWA")
    copy_as_new_order(connection, orders["attribute"], 2, "NIGHTNEWB")
    connection.execute(f"""
        insert into raw.order_lines
        select * replace (unit_price + 10 as unit_price,
                          timestamptz '{_version_at(1)}' as updated_at)
        from raw.order_lines where order_line_id = {_first_line(orders["price"])}
    """)
    connection.execute("insert into raw.order_attributes values (?, 'Seat preference', "
                       "'window', 'string')", [orders["attribute"]])
    connection.execute("update raw.order_passengers set first_name = 'Night' "
                       "where order_id = ? and passenger_index = 1", [orders["passenger"]])
    connection.execute(f"""
        update raw.flight_segments set fare_class = 'business'
        where order_line_id in (select order_line_id from raw.order_lines
                                where order_id = {orders["segment"]})
    """)
    connection.execute(f"""
        insert into raw.order_line_attributes
        values ({_first_line(orders["line_attribute"])}, 'meal', 'vegan', 'string')
    """)


def day_2(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """A customer's email and another's identifiers, an erasure, a test flag."""
    for role, change in (
        ("email", "update raw.customers set email = 'Night.Changed@Example.com' "
                  "where customer_id = ?"),
        ("identifier", "insert into raw.customer_identifiers values (?, 'CRM', 'NIGHT-1', null)"),
    ):
        (customer_id,), = connection.execute(
            "select customer_id from cdp.cdp_orders where order_id = ?", [orders[role]]).fetchall()
        connection.execute(change, [customer_id])
    _new_version(connection, orders["erased"], 2, f"timestamptz '{_version_at(2)}' as deleted_at")
    _new_version(connection, orders["test"], 2, "true as is_test")


def day_3(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """An orderedAt moved by two days, in a version written with an updated_at earlier than
    the latest of the warehouse; the collider takes the neighbour's reference a year apart."""
    connection.execute("""
        insert into raw.orders
        select * replace (strftime(cast(ordered_at as timestamptz) + interval 2 day,
                                   '%Y-%m-%dT%H:%M:%S+00:00') as ordered_at,
                          updated_at + interval 1 second as updated_at)
        from raw.orders where order_id = ?
    """, [orders["moved"]])
    _new_version(connection, orders["collider"], 3, f"""
        (select booking_reference from raw.orders where order_id = {orders["neighbour"]} limit 1)
            as booking_reference,
        (select strftime(cast(ordered_at as timestamptz) - interval 400 day,
                         '%Y-%m-%dT%H:%M:%S+00:00')
         from raw.orders where order_id = {orders["neighbour"]} limit 1) as ordered_at""")


def day_4(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """The collider moves within 24 hours of its neighbour: a collision appears."""
    _new_version(connection, orders["collider"], 4, f"""
        (select strftime(cast(ordered_at as timestamptz) + interval 3 hour,
                         '%Y-%m-%dT%H:%M:%S+00:00')
         from raw.orders where order_id = {orders["neighbour"]} limit 1) as ordered_at""")


def day_5(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """The collider takes its own reference back: the collision disappears. A customer's
    row goes from the raw tables, and another's identifiers."""
    _new_version(connection, orders["collider"], 5, f"""
        (select booking_reference from raw.orders where order_id = {orders["collider"]}
         order by updated_at limit 1) as booking_reference""")
    for role, table in (("email", "customers"), ("identifier", "customer_identifiers")):
        connection.execute(f"""
            delete from raw.{table} where customer_id in (
                select customer_id from raw.orders where order_id = ?)
        """, [orders[role]])


def day_1_and_2(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    day_1(connection, orders)
    day_2(connection, orders)


# Each night's change, and (role, reason) pairs int_orders_touched must give for it.
DAYS: list[tuple[Change, set[tuple[str, str]]]] = [
    (day_1_and_2, {("price", "line_version"), ("attribute", "attributes"),
                    ("passenger", "passengers"), ("segment", "segments"),
                    ("line_attribute", "line_attributes"), ("email", "customers"),
                    ("identifier", "customers"), ("erased", "erased"),
                    ("test", "test_order")}),
    (day_3, {("moved", "order_version"), ("collider", "order_version"),
              ("neighbour", "reference_neighbour")}),
    (day_4, {("collider", "order_version"), ("neighbour", "reference_neighbour")}),
    (day_5, {("collider", "order_version"), ("neighbour", "reference_neighbour"),
              ("email", "customers"), ("identifier", "customers")}),
]


def pick_roles(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The order each role's change is made to, from a built DuckDB warehouse."""
    picked = pick_orders(connection, len(ROLES) + 40)
    flights = {order_id for (order_id,) in connection.execute(
        "select distinct order_id from cdp.cdp_flight_segments").fetchall()}
    with_lines_attributes = {order_id for (order_id,) in connection.execute(
        "select distinct order_id from cdp.cdp_order_items "
        "where extension_attributes_sent > 0").fetchall()}
    with_customer = {order_id for (order_id,) in connection.execute(
        "select order_id from cdp.cdp_orders where customer_id is not null").fetchall()}
    orders: dict[str, int] = {}
    pool = list(picked)
    for role in ("segment", "line_attribute"):
        wanted = flights if role == "segment" else with_lines_attributes
        orders[role] = next(order_id for order_id in pool if order_id in wanted)
        pool.remove(orders[role])
    for role in ("email", "identifier"):
        orders[role] = next(order_id for order_id in pool if order_id in with_customer)
        pool.remove(orders[role])
    for role in ROLES:
        if role not in orders:
            orders[role] = pool.pop(0)
    return orders


class NightlyWarehouse(Protocol):
    """One engine's warehouse as the nights see it."""

    def change(self, change: Change, orders: dict[str, int]) -> None:
        """Make a day's change to the raw tables the next build reads."""

    def build(self, name: str, *options: str) -> None:
        """`dbt build` of the models (the backfill selector unless options select)."""

    def rows(self, sql: str) -> list[tuple]:
        """The rows of a query on the nightly warehouse."""

    def full_refresh_tables(self, name: str) -> tuple[dict[str, list[tuple]],
                                                      dict[str, list[tuple]]]:
        """The rebuilt `cdp` tables of the nightly warehouse, and those of a copy of it
        built with --full-refresh: each table's rows sorted, without BUILD_COLUMNS."""


def build_options(*options: str) -> tuple[str, ...]:
    """What `NightlyWarehouse.build` passes to dbt."""
    return (*MODELS_ONLY, *(options if "--select" in options else (*BACKFILL, *options)))


def touched(warehouse: NightlyWarehouse) -> dict[int, set[str]]:
    return {order_id: set(because.split(","))
            for order_id, because in warehouse.rows(LATEST_TOUCHED)}


def run_nights(warehouse: NightlyWarehouse, orders: dict[str, int]) -> None:
    """Every day of DAYS: change, build incrementally, and compare with a full build."""
    for day, (change, expected) in enumerate(DAYS, start=1):
        warehouse.change(change, orders)
        if change is day_3:
            # A build that touches the orders but rebuilds none of them leaves them
            # pending: the next build touches them again.
            warehouse.build(f"partial-{day}", "--select", "int_orders_touched")
            assert touched(warehouse)[orders["moved"]] == {"order_version"}
            expected = {(role, "unfinished_build") for role, _ in expected}
        warehouse.build(f"night-{day}")
        night = touched(warehouse)
        for role, reason in expected:
            assert reason in night.get(orders[role], set()), (day, role, reason, night)
        assert "backfill" not in set().union(*night.values()), f"day {day} was not incremental"
        nightly_tables, full_tables = warehouse.full_refresh_tables(f"full-{day}")
        assert {"cdp_batch_records", "cdp_orders", "cdp_order_items"} <= full_tables.keys()
        assert nightly_tables.keys() == full_tables.keys()
        for name, rows in full_tables.items():
            assert nightly_tables[name] == rows, f"day {day}: cdp.{name} differs"
        if change is day_4:
            collided = {order_id for (order_id,) in warehouse.rows(COLLIDED)}
            assert {orders["neighbour"], orders["collider"]} <= collided


def assert_the_days_meant_it(warehouse: NightlyWarehouse, orders: dict[str, int]) -> None:
    """After the nights: the collision came and went, the erasure and test flag stayed."""
    def order_ids(model: str) -> set[int]:
        return {order_id for (order_id,) in warehouse.rows(f"select order_id from cdp.{model}")}

    assert orders["erased"] in order_ids("cdp_order_deletes")
    assert orders["test"] in order_ids("cdp_order_exclusions")
    assert {orders["neighbour"], orders["collider"], orders["moved"]} <= order_ids("cdp_orders")
    assert orders["identifier"] not in order_ids("cdp_order_identifiers")
