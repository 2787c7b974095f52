"""The export a user writes by hand, kept as the reference the loader is measured against.

It reads `cdp.cdp_batch_records` (stored in seq order) and writes every record as it is
stored (the line the loader writes) through Python's `gzip` module at its
default level into one file: no size limit, no index, no checksums, no manifest.

    .venv/bin/python bench/baseline_export.py --database warehouse.duckdb --out all.json.gz
"""

from __future__ import annotations

import argparse
import gzip

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    connection = duckdb.connect(args.database, read_only=True)
    # The relation is stored in seq order; insertion order keeps it without a sort.
    connection.execute("set preserve_insertion_order = true")
    cursor = connection.execute("select record from cdp.cdp_batch_records")
    with gzip.open(args.out, "wt", encoding="utf-8", newline="") as handle:
        while rows := cursor.fetchmany(10_000):
            for (record,) in rows:
                handle.write(record + "\n")
    connection.close()


if __name__ == "__main__":
    main()
