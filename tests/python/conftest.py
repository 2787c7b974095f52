"""Shared fixtures: a sample warehouse built once per session, with its mart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Small enough for CI, large enough that every dirty case appears in bulk too.
SAMPLE_ORDERS = 3000
SAMPLE_SEED = 7


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample warehouse with every dirty case, after a full `dbt build`."""
    database = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    generate(database, SAMPLE_ORDERS, SAMPLE_SEED)
    run_dbt_build(PROJECT_DIR, database, ("--quiet",))
    return database


@pytest.fixture
def mart(built_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the built mart."""
    with duckdb.connect(str(built_warehouse), read_only=True) as connection:
        yield connection
