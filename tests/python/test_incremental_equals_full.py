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
from pathlib import Path

import duckdb
import pytest

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate
from conftest import PROJECT_DIR, SAMPLE_ORDERS, SAMPLE_SEED
from nightly_days import (
    BUILD_COLUMNS,
    LATEST_TOUCHED,
    NOT_REBUILT,
    Change,
    assert_the_days_meant_it,
    build_options,
    day_1,
    pick_roles,
    run_nights,
)

# Slices small enough that a night touching every order spans several.
SMALL_SLICES = ("--vars", "{orders_per_build_slice: 700}")


class DuckDBNights:
    """The nights on one DuckDB file; a full build runs on a copy of the file."""

    def __init__(self, database: Path, work: Path) -> None:
        self.database, self.work = database, work

    def change(self, change: Change, orders: dict[str, int]) -> None:
        with duckdb.connect(str(self.database)) as connection:
            connection.execute("set TimeZone = 'UTC'")
            change(connection, orders)

    def build(self, name: str, *options: str, database: Path | None = None) -> None:
        target = self.work / name
        run_dbt_build(PROJECT_DIR, database or self.database, (
            "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
            *build_options(*options)))

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def full_refresh_tables(self, name: str) -> tuple[dict[str, list[tuple]],
                                                      dict[str, list[tuple]]]:
        copy = self.work / f"{name}.duckdb"
        shutil.copyfile(self.database, copy)
        self.build(name, "--full-refresh", database=copy)
        tables = _cdp_tables(self.database), _cdp_tables(copy)
        copy.unlink()
        return tables


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


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> tuple[DuckDBNights, dict[str, int]]:
    """The sample after its first (full) build, and the orders each day changes."""
    work = tmp_path_factory.mktemp("nightly")
    warehouse = DuckDBNights(work / "warehouse.duckdb", work)
    generate(warehouse.database, SAMPLE_ORDERS, SAMPLE_SEED)
    warehouse.build("backfill")
    with duckdb.connect(str(warehouse.database)) as connection:
        orders = pick_roles(connection)
    return warehouse, orders


def test_every_night_equals_a_full_build(
        nightly: tuple[DuckDBNights, dict[str, int]]) -> None:
    run_nights(*nightly)


def test_the_days_change_what_they_mean(nightly: tuple[DuckDBNights, dict[str, int]]) -> None:
    """Run after the nights: the collision came and went, the erasure and test flag stayed."""
    assert_the_days_meant_it(*nightly)


def test_a_night_that_touches_more_than_a_slice_appends_in_slices(
        tmp_path: Path) -> None:
    """A night touching every order (a new version of each) is built in the backfill's
    slices, appended after the pre-hooks' deletes, and still equals a full build."""
    warehouse = DuckDBNights(tmp_path / "warehouse.duckdb", tmp_path)
    generate(warehouse.database, SAMPLE_ORDERS, SAMPLE_SEED)
    warehouse.build("backfill", *SMALL_SLICES)
    with duckdb.connect(str(warehouse.database)) as connection:
        orders = pick_roles(connection)
    warehouse.change(day_1, orders)
    warehouse.change(lambda connection, _: connection.execute(
        "insert into raw.orders select * replace (total_amount + 1 as total_amount, "
        "updated_at + interval 1 day as updated_at) from raw.orders "
        "qualify row_number() over (partition by order_id order by updated_at desc) = 1"),
        orders)
    warehouse.build("night", *SMALL_SLICES)

    touched = warehouse.rows(LATEST_TOUCHED)
    assert len(touched) > SAMPLE_ORDERS, "every order (and the night's new ones) is touched"
    log = (tmp_path / "night" / "logs" / "dbt.log").read_text(encoding="utf-8")
    sliced = [line for line in log.splitlines()
              if '"cdp_batch_records" by name' in line and line.lstrip().startswith("insert into")]
    assert len(sliced) >= 4, "cdp_batch_records was appended slice by slice"
    nightly_tables, full_tables = warehouse.full_refresh_tables("full")
    assert {"cdp_batch_records", "cdp_orders", "cdp_order_items"} <= full_tables.keys()
    for name, rows in full_tables.items():
        assert nightly_tables[name] == rows, f"cdp.{name} differs"
