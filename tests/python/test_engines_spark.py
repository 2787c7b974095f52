"""The same project on Spark: PySpark from PyPI in local mode (dbt-spark's
session method) on this machine's Java, the sample's raw tables loaded from
Parquet, `dbt build --target spark` with every model and test passing, the
batch lines byte for byte those of DuckDB, and the loader's export of Spark's
Parquet output byte for byte its export of the DuckDB mart, the loader's export
straight from Spark the same bytes again, and the daily sync over four nights
with no DuckDB file (engine_daily.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine_helpers
from cdp_loader.cli import cli
from engine_daily import LOADER_PATH, Engine, daily_scenario


def _missing_prerequisite() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "a Java runtime (Spark runs on the JVM)"
    if importlib.util.find_spec("dbt.adapters.spark") is None:
        return "dbt-spark and pyspark (pip install -e '.[spark]')"
    return None


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """The sample built on DuckDB and on Spark: (duckdb path, spark dir, dbt result)."""
    work, sample, reference = engine_helpers.engine_sample(
        tmp_path_factory, "spark", _missing_prerequisite())
    spark_dir = work / "spark"
    spark_dir.mkdir()
    engine_helpers.load_raw_into_spark(sample, spark_dir)
    build = engine_helpers.dbt_build(
        "spark", work / "spark-dbt", {"CDP_SPARK_DIR": str(spark_dir)}, cwd=spark_dir
    )
    return reference, spark_dir, build


@pytest.fixture(scope="module")
def spark_parquet(warehouses, tmp_path_factory):
    """cdp.cdp_batch_records as Spark writes it to Parquet, and its lines."""
    _, spark_dir, build = warehouses
    assert build.returncode == 0, build.stdout[-3000:]
    out = tmp_path_factory.mktemp("spark-records") / "cdp_batch_records"
    return out, engine_helpers.spark_export_parquet(spark_dir, out)


def test_dbt_build_passes_every_model_and_test(warehouses) -> None:
    _, _, build = warehouses
    assert build.returncode == 0, build.stdout[-3000:]
    summary = next(line for line in build.stdout.splitlines() if "Done. PASS=" in line)
    # The two warn-level tests report the sample's unmapped codes, as on DuckDB.
    assert "ERROR=0" in summary and "SKIP=0" in summary, summary


def test_batch_lines_are_the_bytes_duckdb_writes(warehouses, spark_parquet) -> None:
    reference, _, _ = warehouses
    _, actual = spark_parquet
    expected = engine_helpers.duckdb_batch_records(reference)
    assert len(expected) > engine_helpers.SAMPLE_ORDERS
    assert [line.encode() for line in actual] == [line.encode() for line in expected]


def test_export_of_spark_parquet_gives_the_duckdb_files(
    warehouses, spark_parquet, tmp_path
) -> None:
    reference, _, _ = warehouses
    parquet_dir, _ = spark_parquet
    runner = CliRunner()
    from_duckdb = runner.invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "a"),
                                      "--database", str(reference)])
    from_spark = runner.invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "b"),
                                     "--from-parquet", f"{parquet_dir}/*.parquet"])
    assert from_duckdb.exit_code == 0, from_duckdb.output
    assert from_spark.exit_code == 0, from_spark.output
    expected = {path.name: path.read_bytes() for path in (tmp_path / "a").iterdir()}
    actual = {path.name: path.read_bytes() for path in (tmp_path / "b").iterdir()}
    assert "manifest.json" in expected
    assert actual == expected


# Queries through the loader's own warehouse module, in a process of its own: a local
# catalog is opened by one process at a time, and the loader's runs need it next.
_SPARK_QUERY = """
import json, sys
from cdp_loader.warehouse import connect, resolve_target
with connect(resolve_target("spark")) as warehouse:
    rows = {name: [list(row.values()) for row in warehouse.fetch(sql)]
            for name, sql in json.loads(sys.argv[1]).items()}
print(json.dumps(rows))
"""


def spark_query(spark_dir: Path, queries: dict[str, str]) -> dict[str, list[tuple]]:
    result = subprocess.run(
        [sys.executable, "-c", _SPARK_QUERY, json.dumps(queries)], cwd=spark_dir,
        env={**os.environ, "CDP_SPARK_DIR": str(spark_dir), "PYTHONPATH": str(LOADER_PATH)},
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    return {name: [tuple(row) for row in value] for name, value in rows.items()}


def test_export_from_spark_gives_the_duckdb_files(warehouses, tmp_path) -> None:
    reference, spark_dir, build = warehouses
    assert build.returncode == 0, build.stdout[-3000:]
    env = {**os.environ, "CDP_SPARK_DIR": str(spark_dir), "PYTHONPATH": str(LOADER_PATH)}
    env.pop("CDP_DUCKDB_PATH", None)
    from_spark = subprocess.run(
        [sys.executable, "-m", "cdp_loader.cli", "export", "--no-progress", "--target", "spark",
         "--max-bytes", "8192", "--out", str(tmp_path / "b")],
        cwd=spark_dir, env=env, capture_output=True, text=True, check=False)
    assert from_spark.returncode == 0, from_spark.stderr[-3000:]
    from_duckdb = CliRunner().invoke(cli, ["export", "--no-progress", "--out",
                                           str(tmp_path / "a"), "--database", str(reference),
                                           "--max-bytes", "8192"])
    assert from_duckdb.exit_code == 0, from_duckdb.output
    expected = {path.name: path.read_bytes() for path in (tmp_path / "a").iterdir()}
    actual = {path.name: path.read_bytes() for path in (tmp_path / "b").iterdir()}
    assert len([name for name in expected if name.endswith(".json.gz")]) > 1
    assert actual == expected


# About 16 minutes on 2 idle cores (962 s on 2026-12-03): four `run`s, each a Spark
# build without unit tests, and a JVM per raw load and query.
def test_daily_runs_on_spark_record_into_spark(tmp_path_factory) -> None:
    """Backfill, a night of changes, a night of none, a refused order fixed: in a catalog of
    its own, through `cdp-loader run` with CDP_DBT_TARGET=spark and no DuckDB file."""
    engine_helpers.require_engine_tests(_missing_prerequisite())
    work = tmp_path_factory.mktemp("spark-daily")
    spark_dir = work / "spark"
    spark_dir.mkdir()
    engine = Engine("spark", {"CDP_SPARK_DIR": str(spark_dir)},
                    lambda raw: engine_helpers.load_raw_into_spark(raw, spark_dir),
                    lambda queries: spark_query(spark_dir, queries))
    daily_scenario(engine, work)
