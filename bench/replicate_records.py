"""A warehouse holding N copies of another's batch records, to time export and validate at scale.

At 10M orders the dbt build needs more disk than this machine has (bench/RESULTS.md),
yet export and validate only read `cdp.cdp_batch_records`. This copies that relation
from a built warehouse `--copies` times into a new file, in seq order, each copy with
its own seq range and fresh refs (validate rejects a ref seen twice):

    .venv/bin/python bench/replicate_records.py --database w1m.duckdb --copies 10 --out w10m.duckdb
    .venv/bin/python bench/run.py --orders 10000000 --warehouse w10m.duckdb --no-ship

Copy k>0 of a line gets the ref uuid(md5(ref || k)) laid out as a version 5 UUID;
the value of every line is the original's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb


def _fresh_ref(copy: int) -> str:
    """SQL for the ref of copy `copy` of a line: its own for copy 0, else uuid(md5(ref || copy))."""
    if copy == 0:
        return "ref"
    digest = f"md5(ref || '{copy}')"
    return (f"substr({digest}, 1, 8) || '-' || substr({digest}, 9, 4) || '-5' "
            f"|| substr({digest}, 14, 3) || '-a' || substr({digest}, 18, 3) "
            f"|| '-' || substr({digest}, 21, 12)")


def replicate(source: Path, copies: int, out: Path) -> int:
    """Write `copies` copies of the source's batch records to `out`; return the row count."""
    out.unlink(missing_ok=True)
    with duckdb.connect(str(out)) as connection:
        connection.execute("set preserve_insertion_order = true")
        # Each copy is sorted by seq: spill past 4 GB rather than take 80% of the machine.
        connection.execute("set memory_limit = '4GB'")
        connection.execute(f"attach '{source}' as source (read_only)")
        connection.execute("create schema cdp")
        count = connection.execute(
            "select count(*) from source.cdp.cdp_batch_records").fetchone()[0]
        connection.execute(
            "create table cdp.cdp_batch_records as "
            "select * from source.cdp.cdp_batch_records limit 0")
        for copy in range(copies):
            # One statement per copy, each in seq order, so the table stays in seq order.
            connection.execute(f"""
                insert into cdp.cdp_batch_records
                select
                    seq + {copy} * {count} as seq,
                    fresh_ref as ref,
                    schema, mode, order_id, reference_id, ordered_at, record_hash,
                    replace(record, '"ref":"' || ref || '"', '"ref":"' || fresh_ref || '"')
                        as record
                from (
                    select
                        *,
                        {_fresh_ref(copy)} as fresh_ref
                    from source.cdp.cdp_batch_records
                )
                order by seq
            """)
        return connection.execute("select count(*) from cdp.cdp_batch_records").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="a built warehouse")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.copies < 1:
        raise SystemExit("replicate_records: --copies must be at least 1")
    rows = replicate(args.database, args.copies, args.out)
    print(f"{rows:,} batch records in {args.out}")


if __name__ == "__main__":
    main()
