"""The sliced_table models built in many slices give the very tables of one slice."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate
from conftest import PROJECT_DIR, SAMPLE_ORDERS, SAMPLE_SEED

ORDERS_PER_SLICE = 700
SLICED_MODELS = "+cdp_batch_records +cdp_order_items +cdp_orders"


@pytest.fixture(scope="module")
def sliced_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's sample, its batch records and items built ORDERS_PER_SLICE orders at a time."""
    database = tmp_path_factory.mktemp("sliced") / "warehouse.duckdb"
    generate(database, SAMPLE_ORDERS, SAMPLE_SEED)
    run_dbt_build(PROJECT_DIR, database, (
        "--quiet", "--select", SLICED_MODELS,
        "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
        "--vars", f"{{orders_per_build_slice: {ORDERS_PER_SLICE}}}",
    ))
    return database


def _rows(database: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(query).fetchall()


def test_the_sample_takes_several_slices(sliced_warehouse: Path) -> None:
    (orders,), = _rows(sliced_warehouse, "select count(*) from intermediate.int_orders_mapped")
    assert orders > 3 * ORDERS_PER_SLICE


def test_batch_records_are_the_same_lines_stored_in_file_order(
        sliced_warehouse: Path, built_warehouse: Path) -> None:
    # No `order by`: the export streams the table as stored, so storage order is the contract.
    query = "select seq, ref, mode, order_id, record_hash, record from cdp.cdp_batch_records"
    sliced = _rows(sliced_warehouse, query)
    assert [row[0] for row in sliced] == list(range(1, len(sliced) + 1))
    assert sliced == _rows(built_warehouse, query)
    modes = [row[2] for row in sliced]
    assert modes == sorted(modes)  # deletes, all in the first slice, come first


@pytest.mark.parametrize("relation", ["cdp.cdp_order_items", "cdp.cdp_orders"])
def test_items_and_orders_are_the_same(
        relation: str, sliced_warehouse: Path, built_warehouse: Path) -> None:
    query = f"select * from {relation} order by all"
    sliced = _rows(sliced_warehouse, query)
    assert sliced
    assert sliced == _rows(built_warehouse, query)
