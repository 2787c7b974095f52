"""The same project on PostgreSQL: a real server from Debian's packages, the
sample's raw tables copied into it, `dbt build --target postgres` with every
model and test passing, the batch lines byte for byte those of DuckDB, the
loader's export from PostgreSQL byte for byte its export from DuckDB, and the
daily sync over four nights with no DuckDB file (engine_daily.py)."""

from __future__ import annotations

import importlib.util

import duckdb
import pytest
from click.testing import CliRunner

import engine_helpers
from cdp_loader.cli import cli
from engine_daily import Engine, daily_scenario


def _missing_prerequisite() -> str | None:
    if engine_helpers.postgres_bin_dir() is None:
        return "PostgreSQL server binaries (apt-get install postgresql)"
    if importlib.util.find_spec("dbt.adapters.postgres") is None:
        return "dbt-postgres (pip install -e '.[postgres]')"
    return None


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """The sample built on DuckDB and on PostgreSQL: (duckdb path, server, dbt result)."""
    work, raw, reference = engine_helpers.engine_sample(
        tmp_path_factory, "postgres", _missing_prerequisite())
    with engine_helpers.running_postgres() as server:
        engine_helpers.load_raw_into_postgres(raw, server)
        build = engine_helpers.dbt_build("postgres", work / "postgres", server.env())
        yield reference, server, build


def test_dbt_build_passes_every_model_and_test(warehouses) -> None:
    _, _, build = warehouses
    assert build.returncode == 0, build.stdout[-3000:]
    summary = next(line for line in build.stdout.splitlines() if "Done. PASS=" in line)
    # The two warn-level tests report the sample's unmapped codes, as on DuckDB.
    assert "ERROR=0" in summary and "SKIP=0" in summary, summary


def test_batch_lines_are_the_bytes_duckdb_writes(warehouses) -> None:
    reference, server, _ = warehouses
    expected = engine_helpers.duckdb_batch_records(reference)
    actual = engine_helpers.postgres_batch_records(server)
    assert len(expected) > engine_helpers.SAMPLE_ORDERS
    assert [line.encode() for line in actual] == [line.encode() for line in expected]


def test_every_order_lands_in_the_same_place(warehouses) -> None:
    reference, server, _ = warehouses
    query = """
        select 'shipped', order_id, null from cdp.cdp_orders
        union all select 'deleted', order_id, null from cdp.cdp_order_deletes
        union all select 'excluded', order_id, reason from cdp.cdp_order_exclusions
        union all select 'quarantined', order_id, reasons from cdp.cdp_order_quarantine
    """
    with duckdb.connect(str(reference), read_only=True) as connection:
        expected = sorted(connection.execute(query).fetchall())
    connection = server.connect()
    with connection.cursor() as cursor:
        cursor.execute(query)
        actual = sorted(cursor.fetchall())
    connection.close()
    assert actual == expected


def test_export_from_postgres_gives_the_duckdb_files(warehouses, tmp_path,
                                                     monkeypatch) -> None:
    reference, server, _ = warehouses
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    from_duckdb = runner.invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "a"),
                                      "--database", str(reference), "--max-bytes", "8192"])
    from_postgres = runner.invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "b"),
                                        "--target", "postgres", "--max-bytes", "8192"])
    assert from_duckdb.exit_code == 0, from_duckdb.output
    assert from_postgres.exit_code == 0, from_postgres.output
    expected = {path.name: path.read_bytes() for path in (tmp_path / "a").iterdir()}
    actual = {path.name: path.read_bytes() for path in (tmp_path / "b").iterdir()}
    assert len([name for name in expected if name.endswith(".json.gz")]) > 1
    assert actual == expected


def test_a_wrong_password_is_one_line_without_the_password(warehouses, tmp_path,
                                                           monkeypatch) -> None:
    _, server, _ = warehouses
    for name, value in {**server.env(), "CDP_POSTGRES_PASSWORD": "not-the-password"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "a"),
                                      "--target", "postgres"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"cdp-loader: cannot connect to postgres target postgres (cdp@127.0.0.1:{server.port}"
        "/cdp): ")
    assert result.stderr.count("\n") == 1
    assert "not-the-password" not in result.output


def test_daily_runs_on_postgres_record_into_postgres(tmp_path_factory) -> None:
    """Backfill, a night of changes, a night of none, a refused order fixed: on a server of
    its own, through `cdp-loader run` with CDP_DBT_TARGET=postgres and no DuckDB file."""
    engine_helpers.require_engine_tests(_missing_prerequisite())
    work = tmp_path_factory.mktemp("postgres-daily")
    with engine_helpers.running_postgres() as server:
        def query(queries: dict[str, str]) -> dict[str, list[tuple]]:
            connection = server.connect()
            try:
                with connection.cursor() as cursor:
                    results = {}
                    for name, sql in queries.items():
                        cursor.execute(sql)
                        results[name] = cursor.fetchall()
                    return results
            finally:
                connection.close()

        engine = Engine("postgres", server.env(),
                        lambda raw: engine_helpers.load_raw_into_postgres(raw, server), query)
        daily_scenario(engine, work)
