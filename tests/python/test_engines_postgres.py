"""The same project on PostgreSQL: a real server from Debian's packages, the
sample's raw tables copied into it, `dbt build --target postgres` with every
model and test passing, the batch lines byte for byte those of DuckDB, the
loader's export from PostgreSQL byte for byte its export from DuckDB, the
daily sync over four nights with no DuckDB file (engine_daily.py), and the
incremental nights equal to full builds (nightly_days.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import engine_helpers
from cdp_loader.cli import cli
from conftest import SAMPLE_ORDERS, SAMPLE_SEED
from engine_daily import Engine, daily_scenario
from nightly_days import (
    BUILD_COLUMNS,
    NOT_REBUILT,
    Change,
    assert_the_days_meant_it,
    build_options,
    pick_roles,
    run_nights,
)


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


class PostgresNights:
    """The nights on a PostgreSQL database: each day's change is made to a DuckDB copy of
    the raw tables and replicated into it; a full build runs on a copy of the database
    (CREATE DATABASE ... TEMPLATE)."""

    def __init__(self, server: engine_helpers.PostgresServer, raw_copy: Path,
                 work: Path) -> None:
        self.server, self.raw_copy, self.work = server, raw_copy, work

    def change(self, change: Change, orders: dict[str, int]) -> None:
        with duckdb.connect(str(self.raw_copy)) as connection:
            connection.execute("set TimeZone = 'UTC'")
            change(connection, orders)
        engine_helpers.load_raw_into_postgres(self.raw_copy, self.server)

    def build(self, name: str, *options: str, dbname: str | None = None) -> None:
        env = {**self.server.env(), "CDP_POSTGRES_DBNAME": dbname or self.server.dbname}
        build = engine_helpers.dbt_build("postgres", self.work / name, env,
                                         build_options(*options))
        assert build.returncode == 0, build.stdout[-3000:]

    def rows(self, sql: str, dbname: str | None = None) -> list[tuple]:
        connection = self.server.connect(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def full_refresh_tables(self, name: str) -> tuple[dict[str, list[tuple]],
                                                      dict[str, list[tuple]]]:
        copy = name.replace("-", "_")
        self.rows(f"create database {copy} template {self.server.dbname}",
                  dbname="postgres")
        try:
            self.build(name, "--full-refresh", dbname=copy)
            return self._cdp_tables(self.server.dbname), self._cdp_tables(copy)
        finally:
            self.rows(f"drop database {copy}", dbname="postgres")

    def _cdp_tables(self, dbname: str) -> dict[str, list[tuple]]:
        """Every rebuilt table of `cdp`, its rows sorted, without the columns naming the
        build (PostgreSQL has no `order by all`, and NULLs do not sort in Python: by repr)."""
        columns: dict[str, list[str]] = {}
        for table, column in self.rows("""
                select c.table_name, c.column_name from information_schema.columns as c
                join information_schema.tables as t using (table_schema, table_name)
                where c.table_schema = 'cdp' and t.table_type = 'BASE TABLE'
                order by c.table_name, c.ordinal_position""", dbname):
            if table not in NOT_REBUILT and column not in BUILD_COLUMNS:
                columns.setdefault(table, []).append(column)
        return {table: sorted(self.rows(f"select {', '.join(names)} from cdp.{table}", dbname),
                              key=repr)
                for table, names in columns.items()}


def test_every_night_on_postgres_equals_a_full_build(tmp_path_factory) -> None:
    """nightly_days.DAYS on PostgreSQL: after each incremental night, every `cdp` table
    equals that of a --full-refresh build of the same raw tables, row for row."""
    engine_helpers.require_engine_tests(_missing_prerequisite())
    work = tmp_path_factory.mktemp("postgres-nights")
    # The days' changes look up customers in the DuckDB build's cdp.cdp_orders.
    _, reference = engine_helpers.sample_and_duckdb_reference(work, SAMPLE_ORDERS, SAMPLE_SEED)
    with duckdb.connect(str(reference), read_only=True) as connection:
        orders = pick_roles(connection)
    with engine_helpers.running_postgres() as server:
        warehouse = PostgresNights(server, reference, work)
        engine_helpers.load_raw_into_postgres(reference, server)
        warehouse.build("backfill")
        run_nights(warehouse, orders)
        assert_the_days_meant_it(warehouse, orders)
