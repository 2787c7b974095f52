"""The same project on Spark: PySpark from PyPI in local mode (dbt-spark's
session method) on this machine's Java, the sample's raw tables loaded from
Parquet, `dbt build --target spark` with every model and test passing, the
batch lines byte for byte those of DuckDB, and the loader's export of Spark's
Parquet output byte for byte its export of the DuckDB mart."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest
from click.testing import CliRunner

import engine_helpers
from cdp_loader.cli import cli


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
