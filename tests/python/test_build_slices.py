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
    """The session's sample, its sliced models built ORDERS_PER_SLICE rows at a time."""
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


@pytest.mark.parametrize("cut_from", [
    "intermediate.int_orders_mapped",
    "intermediate.int_customer_identifiers_deduplicated",
    "staging.stg_raw__order_line_attributes",
])
def test_the_sample_takes_several_slices(cut_from: str, sliced_warehouse: Path) -> None:
    (rows,), = _rows(sliced_warehouse, f"select count(*) from {cut_from}")
    assert rows > 3 * ORDERS_PER_SLICE


def test_batch_records_are_the_same_lines_stored_in_file_order(
        sliced_warehouse: Path, built_warehouse: Path) -> None:
    # No `order by`: the export streams the table as stored, so storage order is the contract.
    query = "select seq, ref, mode, order_id, record_hash, record from cdp.cdp_batch_records"
    sliced = _rows(sliced_warehouse, query)
    assert [row[0] for row in sliced] == list(range(1, len(sliced) + 1))
    assert sliced == _rows(built_warehouse, query)
    modes = [row[2] for row in sliced]
    assert modes == sorted(modes)  # deletes, all in the first slice, come first


@pytest.mark.parametrize("relation", [
    "cdp.cdp_order_items",
    "cdp.cdp_orders",
    "intermediate.int_order_consumers_built",
    "intermediate.int_order_extensions_built",
    "intermediate.int_order_item_extensions_built",
    "intermediate.int_customer_identifiers_aggregated",
])
def test_every_sliced_model_is_the_same(
        relation: str, sliced_warehouse: Path, built_warehouse: Path) -> None:
    query = f"select * from {relation} order by all"
    sliced = _rows(sliced_warehouse, query)
    assert sliced
    assert sliced == _rows(built_warehouse, query)
