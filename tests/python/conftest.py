"""Shared fixtures: a sample warehouse built once per session, with its mart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate
from cdp_loader.sandbox import FaultPlan, Sandbox
from ship_helpers import API_TOKEN, CLIENT_KEY

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Small enough for CI, large enough that every dirty case appears in bulk too.
SAMPLE_ORDERS = 3000
SAMPLE_SEED = 7


# Settings a user's shell may hold: no test may read them by accident.
_USER_SETTINGS = ("CDP_DUCKDB_PATH", "CDP_BASE_URL", "CDP_CLIENT_KEY", "CDP_API_TOKEN",
                  "CDP_DBT_TARGET", "CDP_DBT_SCHEMA")


@pytest.fixture(autouse=True)
def hermetic_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts without the user's CDP settings and with its own loader state."""
    for name in _USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CDP_LOADER_STATE_DIR", str(tmp_path / "loader-state"))


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


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A Batch API sandbox on loopback with no faults staged, for the ship tests."""
    with Sandbox(faults=FaultPlan.parse(""), client_key=CLIENT_KEY,
                 api_token=API_TOKEN) as running:
        yield running
