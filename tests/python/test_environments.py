"""Environments apart: a CI build (CDP_DBT_SCHEMA=ci) in the production warehouse writes
its own schemas, `ci_cdp`, `ci_staging`, ..., leaves `cdp` as it was, and the loader
with the same setting reads and records in `ci_cdp`."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cdp_loader.cli import cli
from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.run_history import ShipRun, record_ship_run
from cdp_loader.sample_warehouse import generate
from cdp_loader.warehouse import mart_schema
from conftest import PROJECT_DIR

SCHEMAS = ("cdp", "cdp_reference", "intermediate", "staging")


def _fingerprint(database: Path, schema: str) -> dict[str, str]:
    """table -> md5 of its rows in a fixed order, for every table of SCHEMA."""
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = [row[0] for row in connection.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_type = 'BASE TABLE' order by 1", [schema]).fetchall()]
        prints = {}
        for table in tables:
            rows = connection.execute(f"select * from {schema}.{table}").fetchall()
            text = "\n".join(sorted(repr(row) for row in rows))
            prints[table] = hashlib.md5(text.encode()).hexdigest()
        return prints


@pytest.fixture(scope="module")
def both_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A warehouse built for production, then built again as CI (CDP_DBT_SCHEMA=ci), with
    the fingerprints of the production schemas between the two builds."""
    database = tmp_path_factory.mktemp("environments") / "warehouse.duckdb"
    generate(database, 200, 5)
    run_dbt_build(PROJECT_DIR, database, ("--quiet",))
    production = {schema: _fingerprint(database, schema) for schema in SCHEMAS}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDP_DBT_SCHEMA", "ci")
        run_dbt_build(PROJECT_DIR, database, ("--quiet",))
    return database, production


def test_the_loader_computes_the_schema_dbt_builds_into() -> None:
    assert mart_schema({}) == "cdp"
    assert mart_schema({"CDP_DBT_SCHEMA": "ci"}) == "ci_cdp"
    assert mart_schema({"CDP_DBT_SCHEMA": " "}) == "cdp"


def test_a_ci_build_writes_its_own_schemas_and_leaves_cdp_untouched(
        both_builds: tuple[Path, dict]) -> None:
    database, production = both_builds
    assert "cdp_batch_records" in production["cdp"]
    with duckdb.connect(str(database), read_only=True) as connection:
        schemas = {row[0] for row in connection.execute(
            "select schema_name from information_schema.schemata").fetchall()}
    assert {f"ci_{schema}" for schema in SCHEMAS} <= schemas
    # Production is as it was, history included; CI has the same mart of its own.
    assert {schema: _fingerprint(database, schema) for schema in SCHEMAS} == production
    ci = _fingerprint(database, "ci_cdp")
    assert ci["cdp_batch_records"] == production["cdp"]["cdp_batch_records"]
    assert "cdp_shipped_orders" in ci and "cdp_ship_runs" in ci


def test_the_loader_reads_and_records_where_the_ci_build_wrote(
        both_builds: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    both = tmp_path / "both.duckdb"
    shutil.copyfile(both_builds[0], both)
    monkeypatch.setenv("CDP_DBT_SCHEMA", "ci")
    with duckdb.connect(str(both)) as connection:
        # Tell the two marts apart: CI's loses its delete records.
        connection.execute("delete from ci_cdp.cdp_batch_records where mode = 'delete'")
        inserts = connection.execute(
            "select count(*) from ci_cdp.cdp_batch_records").fetchone()[0]
    result = CliRunner().invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "ci"),
                                      "--database", str(both)])
    assert result.exit_code == 0, result.output
    assert f"exported {inserts} records" in result.output
    record_ship_run(both, ShipRun(
        run_id="ci-run", started_at=datetime.now(UTC), finished_at=datetime.now(UTC),
        scope="ship", batch_dir="ci", files=0, bytes=0, records_sent=0, records_succeeded=0,
        records_rejected=0, rejected_by_code={}, deletes_already_absent=0,
        duration_seconds=0.0, exit_code=0))
    with duckdb.connect(str(both), read_only=True) as connection:
        runs = {schema: connection.execute(
            f"select count(*) from {schema}.cdp_ship_runs where run_id = 'ci-run'").fetchone()[0]
            for schema in ("cdp", "ci_cdp")}
    assert runs == {"cdp": 0, "ci_cdp": 1}
