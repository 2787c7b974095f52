"""DuckDB's own gzip writer over the same records: one unsplit, unchecksummed file.

`--format lines` writes each record column as the line, as the loader does
(FORMAT CSV, one column, no header, and quote and delimiter characters that
never occur in minified JSON, so nothing is quoted): the same bytes before
compression. Like the loader it scans the relation in its stored (seq)
order without a sort. `--format json` is the literal `COPY ... (FORMAT JSON)`, which
wraps each record as {"record": ...}, a few bytes more per line.

    .venv/bin/python bench/duckdb_copy.py --database w.duckdb --out all.csv.gz --format lines
"""

from __future__ import annotations

import argparse

import duckdb

COPY_BY_FORMAT = {
    "lines": (
        "copy (select record from cdp.cdp_batch_records) to '{out}' "
        "(format csv, header false, delimiter '\x1f', quote '\x1e', escape '\x1e', "
        "compression gzip)"
    ),
    "json": (
        "copy (select record::json as record from cdp.cdp_batch_records) "
        "to '{out}' (format json, compression gzip)"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--format", choices=sorted(COPY_BY_FORMAT), default="lines")
    args = parser.parse_args()
    connection = duckdb.connect(args.database, read_only=True)
    connection.execute("set enable_progress_bar = false")
    connection.execute("set preserve_insertion_order = true")
    connection.execute(COPY_BY_FORMAT[args.format].format(out=args.out.replace("'", "''")))
    connection.close()


if __name__ == "__main__":
    main()
