"""The export a user writes by hand, kept as the reference the loader is measured against.

It reads `cdp.cdp_batch_records` (stored in seq order) and writes every record
through Python's `gzip` module at its default level into one file: no size
limit, no index, no checksums, no manifest. Two ways per row:

- `--per-row dumps` (the default, as issue 4 defines the baseline): the line
  is `json.dumps` of the record, as a hand-written loader serialises a row.
  Its bytes differ from the canonical line (money 50.00 becomes 50.0), which
  is one reason not to write it by hand; the records and their count do not.
- `--per-row line`: the stored line as it is, the fastest a hand-written
  loader can be; its bytes equal the export's.

    .venv/bin/python bench/baseline_export.py --database warehouse.duckdb --out all.json.gz
"""

from __future__ import annotations

import argparse
import gzip
import json

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--per-row", choices=("dumps", "line"), default="dumps")
    args = parser.parse_args()
    connection = duckdb.connect(args.database, read_only=True)
    # The relation is stored in seq order; insertion order keeps it without a sort.
    connection.execute("set preserve_insertion_order = true")
    cursor = connection.execute("select record from cdp.cdp_batch_records")
    with gzip.open(args.out, "wt", encoding="utf-8", newline="") as handle:
        while rows := cursor.fetchmany(10_000):
            for (record,) in rows:
                if args.per_row == "dumps":
                    record = json.dumps(json.loads(record), ensure_ascii=False,
                                        separators=(",", ":"))
                handle.write(record + "\n")
    connection.close()


if __name__ == "__main__":
    main()
