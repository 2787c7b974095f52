"""A nightly (incremental) build gives the very tables of a full build, day after day.

One warehouse is built once in full, then each day the order system changes
it and `dbt build` runs incrementally, rebuilding only the orders
int_orders_touched names. After each day a copy of the warehouse file is
built with `--full-refresh`, and every table of schema `cdp` must be the same
in both, row for row and byte for byte. The days cover what can change an
order: new orders and versions, rows without a timestamp changed in place
(attributes, passengers, segments, line attributes), a customer's email and
identifiers, an erasure, a test flag, an orderedAt moved over 24 hours, a
reference collision that appears and disappears through the neighbour alone,
and a build that stopped after touching orders without rebuilding them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate
from conftest import PROJECT_DIR, SAMPLE_ORDERS, SAMPLE_SEED
from daily_helpers import copy_as_new_order, pick_orders

# Models only: the test compares tables, and the dbt tests run on the sample elsewhere.
MODELS_ONLY = ("--quiet", "--exclude-resource-type", "test", "--exclude-resource-type",
               "unit_test")
# Not the daily delta either (tables built whole from cdp_batch_records).
BACKFILL = ("--selector", "backfill")
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


def _day_1(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
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


def _day_2(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
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


def _day_3(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
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


def _day_4(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """The collider moves within 24 hours of its neighbour: a collision appears."""
    _new_version(connection, orders["collider"], 4, f"""
        (select strftime(cast(ordered_at as timestamptz) + interval 3 hour,
                         '%Y-%m-%dT%H:%M:%S+00:00')
         from raw.orders where order_id = {orders["neighbour"]} limit 1) as ordered_at""")


def _day_5(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    """The collider takes its own reference back: the collision disappears."""
    _new_version(connection, orders["collider"], 5, f"""
        (select booking_reference from raw.orders where order_id = {orders["collider"]}
         order by updated_at limit 1) as booking_reference""")


def _day_1_and_2(connection: duckdb.DuckDBPyConnection, orders: dict[str, int]) -> None:
    _day_1(connection, orders)
    _day_2(connection, orders)


# Each night's change, and (role, reason) pairs int_orders_touched must give for it.
DAYS: list[tuple[Change, set[tuple[str, str]]]] = [
    (_day_1_and_2, {("price", "line_version"), ("attribute", "attributes"),
                    ("passenger", "passengers"), ("segment", "segments"),
                    ("line_attribute", "line_attributes"), ("email", "customers"),
                    ("identifier", "customers"), ("erased", "erased"),
                    ("test", "test_order")}),
    (_day_3, {("moved", "order_version"), ("collider", "order_version"),
              ("neighbour", "reference_neighbour")}),
    (_day_4, {("collider", "order_version"), ("neighbour", "reference_neighbour")}),
    (_day_5, {("collider", "order_version"), ("neighbour", "reference_neighbour")}),
]


def _build(database: Path, target: Path, *options: str) -> None:
    run_dbt_build(PROJECT_DIR, database, (
        *MODELS_ONLY, "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
        *(options if "--select" in options else (*BACKFILL, *options))))


def _cdp_tables(database: Path) -> dict[str, list[tuple]]:
    """Every rebuilt table of `cdp`, its rows sorted, without the columns naming the build."""
    tables = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        names = [name for (name,) in connection.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'cdp' and table_type = 'BASE TABLE' order by 1").fetchall()]
        for name in names:
            if name in NOT_REBUILT:
                continue
            columns = [column for (column, *_) in connection.execute(
                f"describe cdp.{name}").fetchall() if column not in BUILD_COLUMNS]
            tables[name] = connection.execute(
                f"select {', '.join(columns)} from cdp.{name} order by all").fetchall()
    return tables


def _touched(database: Path) -> dict[int, set[str]]:
    """The orders the latest build touched, with why."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute("""
            select order_id, touched_because from intermediate.int_orders_touched
            where touched_at = (select max(touched_at) from intermediate.int_orders_touched)
        """).fetchall()
    return {order_id: set(because.split(",")) for order_id, because in rows}


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The sample after its first (full) build, and the orders each day changes."""
    work = tmp_path_factory.mktemp("nightly")
    database = work / "warehouse.duckdb"
    generate(database, SAMPLE_ORDERS, SAMPLE_SEED)
    _build(database, work)
    with duckdb.connect(str(database)) as connection:
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
    return database, orders


def test_every_night_equals_a_full_build(
        nightly: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    database, orders = nightly
    for day, (change, expected) in enumerate(DAYS, start=1):
        with duckdb.connect(str(database)) as connection:
            connection.execute("set TimeZone = 'UTC'")
            change(connection, orders)
        if change is _day_3:
            # A build that touches the orders but rebuilds none of them leaves them
            # pending: the next build touches them again.
            _build(database, tmp_path / f"partial-{day}", "--select", "int_orders_touched")
            assert _touched(database)[orders["moved"]] == {"order_version"}
            expected = {(role, "unfinished_build") for role, _ in expected}
        _build(database, tmp_path / f"night-{day}")
        touched = _touched(database)
        for role, reason in expected:
            assert reason in touched.get(orders[role], set()), (day, role, reason, touched)
        assert "backfill" not in set().union(*touched.values()), f"day {day} was not incremental"
        copy = tmp_path / f"full-{day}.duckdb"
        shutil.copyfile(database, copy)
        _build(copy, tmp_path / f"full-{day}", "--full-refresh")
        nightly_tables, full_tables = _cdp_tables(database), _cdp_tables(copy)
        assert nightly_tables.keys() == full_tables.keys()
        for name, rows in full_tables.items():
            assert nightly_tables[name] == rows, f"day {day}: cdp.{name} differs"
        copy.unlink()
        if change is _day_4:
            with duckdb.connect(str(database), read_only=True) as connection:
                collided = {order_id for (order_id,) in connection.execute(
                    "select order_id from cdp.cdp_order_quarantine "
                    "where reason = 'reference_collision'").fetchall()}
            assert {orders["neighbour"], orders["collider"]} <= collided


def test_the_days_change_what_they_mean(nightly: tuple[Path, dict[str, int]]) -> None:
    """Run after the nights: the collision came and went, the erasure and test flag stayed."""
    database, orders = nightly
    with duckdb.connect(str(database), read_only=True) as connection:
        deleted = {order_id for (order_id,) in connection.execute(
            "select order_id from cdp.cdp_order_deletes").fetchall()}
        excluded = {order_id for (order_id,) in connection.execute(
            "select order_id from cdp.cdp_order_exclusions").fetchall()}
        shipped = {order_id for (order_id,) in connection.execute(
            "select order_id from cdp.cdp_orders").fetchall()}
    assert orders["erased"] in deleted
    assert orders["test"] in excluded
    assert {orders["neighbour"], orders["collider"], orders["moved"]} <= shipped
