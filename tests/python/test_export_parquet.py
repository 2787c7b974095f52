"""`cdp-loader export --from-parquet`: the batch records another engine wrote as
Parquet give the very files an export of the DuckDB mart gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner

from cdp_loader.cli import cli
from export_helpers import create_batch_records_db, sample_records


def run_export(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["export", "--no-progress", *args], env=env)


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def write_parquet_parts(database: Path, folder: Path, parts: int) -> None:
    """cdp.cdp_batch_records as `parts` Parquet files, written as a distributed
    engine writes them: rows hashed to files, no file in seq order, and the
    ordered_at column a timestamp with zone."""
    folder.mkdir()
    with duckdb.connect(str(database), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for part in range(parts):
            connection.execute(
                f"""
                copy (
                    select * replace (cast(ordered_at as timestamptz) as ordered_at)
                    from cdp.cdp_batch_records
                    where hash(seq) % {parts} = {part}
                    order by md5(ref)
                ) to '{folder / f"part-{part:05d}.parquet"}' (format parquet)
                """
            )


def test_parquet_parts_export_byte_identical_files(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    create_batch_records_db(database, sample_records(inserts=40, deletes=5, payload_bytes=300))
    write_parquet_parts(database, tmp_path / "records", parts=3)

    from_duckdb = run_export("--out", str(tmp_path / "duckdb"), "--database", str(database),
                             "--max-bytes", "8192")
    from_parquet = run_export("--out", str(tmp_path / "parquet"), "--max-bytes", "8192",
                              "--from-parquet", str(tmp_path / "records" / "*.parquet"))

    assert from_duckdb.exit_code == 0, from_duckdb.output
    assert from_parquet.exit_code == 0, from_parquet.output
    expected = files_of(tmp_path / "duckdb")
    assert len([name for name in expected if name.endswith(".json.gz")]) > 1
    assert files_of(tmp_path / "parquet") == expected
    assert "exported 45 records into" in from_parquet.output


def test_parquet_wins_over_the_database_of_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    create_batch_records_db(database, sample_records(inserts=3))
    write_parquet_parts(database, tmp_path / "records", parts=1)
    result = run_export(
        "--out", str(tmp_path / "out"),
        "--from-parquet", str(tmp_path / "records" / "part-00000.parquet"),
        env={"CDP_DUCKDB_PATH": str(tmp_path / "no-such.duckdb")},
    )
    assert result.exit_code == 0, result.output
    assert "exported 3 records into 1 files" in result.output


def test_no_matching_parquet_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_export("--out", str(tmp_path / "out"),
                        "--from-parquet", str(tmp_path / "none" / "*.parquet"))
    assert result.exit_code == 2
    assert result.output.startswith(f"cdp-loader: cannot read Parquet {tmp_path}/none/*.parquet: ")
    assert len(result.output.strip().splitlines()) == 1


def test_parquet_without_a_contract_column_names_it(tmp_path: Path) -> None:
    parquet = tmp_path / "records.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select 1 as seq, 'r' as ref, timestamp '2025-01-01' as ordered_at)"
            f" to '{parquet}' (format parquet)"
        )
    result = run_export("--out", str(tmp_path / "out"), "--from-parquet", str(parquet))
    assert result.exit_code == 2
    assert "cdp.cdp_batch_records lacks column(s) schema, mode, order_id" in result.output


def test_neither_database_nor_parquet_is_a_usage_error(tmp_path: Path) -> None:
    result = run_export("--out", str(tmp_path / "out"), env={"CDP_DUCKDB_PATH": ""})
    assert result.exit_code == 2
    assert ("--database (or CDP_DUCKDB_PATH), --target (or CDP_DBT_TARGET) or --from-parquet"
            in result.output)
