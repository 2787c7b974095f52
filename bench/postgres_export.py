"""Export from PostgreSQL beside export from DuckDB, on the same batch records (issue 13).

Starts a throwaway PostgreSQL server (the engine tests' one), copies
`cdp.cdp_batch_records` of a built DuckDB warehouse into it, then runs
`cdp-loader export` from each warehouse in turn, one after the other, and
prints the wall time and peak resident memory of each and whether the files
are byte-identical:

    .venv/bin/python bench/postgres_export.py --database /path/to/warehouse.duckdb --work /tmp/pgx
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(PROJECT / "tests" / "python"))
sys.path.insert(0, str(PROJECT / "bench"))

import engine_helpers  # noqa: E402 - the engine tests' throwaway server
from cdp_loader import records  # noqa: E402
from run import run_child  # noqa: E402

# The columns export reads (records.COLUMNS), typed as the postgres build makes them.
RECORDS_DDL = """
create schema if not exists cdp;
create table cdp.cdp_batch_records (
    seq bigint, ref text, schema text, mode text, order_id bigint, reference_id text,
    ordered_at timestamptz, record_hash text, record text
)
"""
COLUMNS = ", ".join(records.COLUMNS)
_TO_CSV = f"""
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
connection.execute("set TimeZone = 'UTC'")
connection.execute("set enable_progress_bar = false")
connection.execute(f"copy (select {COLUMNS} from cdp.cdp_batch_records order by seq) "
                   f"to '{{sys.argv[2]}}' (format csv, header false)")
"""


def copy_records(database: Path, server: engine_helpers.PostgresServer, csv: Path) -> int:
    """cdp.cdp_batch_records of the DuckDB file into the server, through one CSV file."""
    # In a child: a forked child's peak memory starts at its parent's, so the parent
    # must never hold DuckDB's buffers (bench/run.py measures the same way).
    subprocess.run([sys.executable, "-c", _TO_CSV, str(database), str(csv)], check=True)
    connection = server.connect()
    with connection.cursor() as cursor, csv.open("rb") as rows:
        cursor.execute(RECORDS_DDL)
        cursor.copy_expert(f"copy cdp.cdp_batch_records ({COLUMNS}) from stdin (format csv)",
                           rows)
        cursor.execute("vacuum analyze cdp.cdp_batch_records")
        cursor.execute("select count(*) from cdp.cdp_batch_records")
        (count,) = cursor.fetchone()
    connection.close()
    csv.unlink()
    return int(count)


def digest(folder: Path) -> str:
    """One SHA-256 over the names and bytes of a folder's batch files and manifest."""
    total = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        total.update(path.name.encode())
        total.update(path.read_bytes())
    return total.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True,
                        help="a built DuckDB warehouse (cdp.cdp_batch_records)")
    parser.add_argument("--work", type=Path, required=True, help="a scratch folder")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    loader = str(BIN / "cdp-loader")
    log = args.work / "bench.log"
    with engine_helpers.running_postgres() as server:
        count = copy_records(args.database.resolve(), server, args.work / "records.csv")
        print(f"{count:,} batch records copied into PostgreSQL", flush=True)
        results = {}
        for name, where in (("duckdb", ["--database", str(args.database)]),
                            ("postgres", ["--target", "postgres"])):
            out = args.work / f"batches-{name}"
            shutil.rmtree(out, ignore_errors=True)
            seconds, peak = run_child([loader, "export", "--no-progress", "--out", str(out),
                                       *where], log, env={**os.environ, **server.env()})
            results[name] = digest(out)
            print(f"  export from {name:<9} {seconds:7.1f} s  {peak / 2**20:7.0f} MiB peak  "
                  f"{count / seconds:9,.0f} records/s", flush=True)
    same = "byte-identical" if results["duckdb"] == results["postgres"] else "DIFFERENT"
    print(f"  the two folders are {same}")


if __name__ == "__main__":
    main()
