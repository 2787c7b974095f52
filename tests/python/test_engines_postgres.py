"""The same project on PostgreSQL: a real server from Debian's packages, the
sample's raw tables copied into it, `dbt build --target postgres` with every
model and test passing, and the batch lines byte for byte those of DuckDB."""

from __future__ import annotations

import importlib.util

import duckdb
import pytest

import engine_helpers


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
