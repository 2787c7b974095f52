"""`cdp-loader run`: the whole job, against real warehouses and the sandbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cdp_loader.cli import cli
from conftest import PROJECT_DIR

EXAMPLE = Path(__file__).parent / "data" / "worked_example.md"
RAW_DDL = PROJECT_DIR / "loader" / "cdp_loader" / "raw_warehouse.sql"


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["run", "--poll-interval", "0.05", "--no-progress", *args],
                              env=env, catch_exceptions=False)


def test_run_ships_every_record_of_the_mart_to_the_sandbox(built_warehouse, tmp_path) -> None:
    result = _run("--database", str(built_warehouse), "--skip-dbt", "--sandbox", "--json",
                  "--out", str(tmp_path / "batches"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    with duckdb.connect(str(built_warehouse), read_only=True) as mart:
        records, deletes = mart.execute(
            "select count(*), count(*) filter (where mode = 'delete') from cdp.cdp_batch_records"
        ).fetchone()
        shipped = mart.execute("select shipped_orders from cdp.cdp_order_reconciliation").fetchone()
    assert report["mart"]["reconciles"] is True
    assert report["mart"]["shipped"] == shipped[0]
    assert report["export"]["records"] == records
    assert report["validate"]["problems"] == 0
    assert report["ship"]["records"] == records
    assert report["ship"]["rejected"] == 0
    # The sandbox starts empty, so no delete finds its order.
    assert report["ship"]["deletes_already_absent"] == deletes
    folder = Path(report["export"]["folder"])
    assert folder.parent == tmp_path / "batches"
    assert json.loads((folder / "ledger.json").read_text())


def test_run_builds_the_mart_with_dbt_then_ships_it(tmp_path) -> None:
    sql = re.findall(r"```[a-z]*\n(.*?)```", EXAMPLE.read_text(), re.S)[0]
    database = tmp_path / "example.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(RAW_DDL.read_text())
        connection.execute(sql)
    result = _run("--database", str(database), "--project-dir", str(PROJECT_DIR), "--sandbox",
                  "--out", str(tmp_path / "batches"))
    assert result.exit_code == 0, result.output
    assert "dbt build: every model built and every test passed" in result.stdout
    assert re.search(r"current orders +3\n +shipped +1\n +deleted +1\n", result.stdout)
    assert re.search(r"invalid_currency +1\n", result.stdout)
    # The delete and the insert ship as two batches, the delete first.
    assert "files 2 (succeeded 2, errored 0, pending 0) | records 2 |" in result.stdout
    # A full run does not build the daily delta (selectors.yml, backfill).
    with duckdb.connect(str(database), read_only=True) as mart:
        built = {name for (name,) in mart.execute(
            "select table_name from duckdb_tables() where schema_name = 'cdp'").fetchall()}
    assert {"cdp_batch_records", "cdp_orders"} <= built
    assert not built & {"cdp_batch_records_delta", "cdp_delta_summary"}


def test_run_without_a_batch_api_stops_before_building(tmp_path) -> None:
    result = _run("--database", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "b"),
                  env={"CDP_BASE_URL": "", "CDP_CLIENT_KEY": "", "CDP_API_TOKEN": ""})
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "CDP_BASE_URL" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (("--daily", "--full-refresh"), "--daily and --full-refresh exclude each other"),
    (("--allow-stale-sources",), "--allow-stale-sources goes with --daily"),
])
def test_run_refuses_flags_that_do_not_go_together(tmp_path, flags, message) -> None:
    result = _run("--database", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "b"),
                  "--sandbox", *flags)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "b").exists()
