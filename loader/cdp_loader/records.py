"""Reads the batch records that dbt built (`cdp.cdp_batch_records`) in file order.

The DuckDB file is opened read-only and the rows are streamed in chunks, so a
backfill of millions of orders never sits in Python memory at once. The same
records written as Parquet by another engine (Spark, PostgreSQL, a cloud
warehouse's unload) are read through DuckDB in the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from cdp_loader.errors import LoaderError

RELATION_SCHEMA = "cdp"
# The full export; the daily run reads its sibling with the same columns.
FULL_EXPORT = "cdp_batch_records"
DAILY_DELTA = "cdp_batch_records_delta"
RELATION = f"{RELATION_SCHEMA}.{FULL_EXPORT}"
COLUMNS = (
    "seq", "ref", "schema", "mode", "order_id", "reference_id", "ordered_at", "record_hash",
    "record",
)
# ordered_at leaves DuckDB as the text CDP matches on, not a Python datetime.
_SELECTED = ", ".join(
    "strftime(ordered_at, '%Y-%m-%dT%H:%M:%S.%gZ') as ordered_at" if column == "ordered_at"
    else column
    for column in COLUMNS
)
DEFAULT_CHUNK_ROWS = 10_000
# A streamed scan needs little: 256 MB kept export at ~400 MB resident at any size.
READ_MEMORY_LIMIT = "256MB"
BUILD_HINT = "run `dbt build --profiles-dir profiles` first"
# The storage format of a warehouse file the loader creates (the sample), as
# profiles.yml gives dbt's: v1.2 and later store long text compressed (ZSTD,
# macros/engines/long_text_storage.sql); DuckDB 1.5 and later read it.
STORAGE_VERSION = "v1.5.0"


class BatchRecord(NamedTuple):
    """One line of a batch file and the keys that name it (no personal data but `record`)."""

    seq: int
    ref: str
    schema: str
    mode: str
    order_id: int | None
    reference_id: str
    ordered_at: str
    record_hash: str
    record: str


@dataclass(frozen=True)
class ParquetRecords:
    """`cdp.cdp_batch_records` as Parquet files: a path or a glob ('out/*.parquet')."""

    glob: str


# Where an export reads the batch records from: a DuckDB file or Parquet files.
RecordSource = Path | ParquetRecords


@contextmanager
def open_source(source: RecordSource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection in which `cdp.cdp_batch_records` holds the source's records."""
    if isinstance(source, ParquetRecords):
        with open_parquet_records(source) as connection:
            yield connection
    else:
        with open_warehouse(source) as connection:
            yield connection


@contextmanager
def open_parquet_records(source: ParquetRecords) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB whose view cdp.cdp_batch_records reads the Parquet files.

    Files are read in name order and rows in file order, so records that the
    writer stored by seq stream without a sort; ordered_at, a timestamp with
    or without zone, is read as the UTC wall clock.
    """
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set enable_progress_bar = false")
        connection.execute("set preserve_insertion_order = true")
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"create schema {RELATION_SCHEMA}")
        glob = source.glob.replace("'", "''")
        try:
            connection.execute(
                f"create view {RELATION} as select * replace "
                "(cast(ordered_at as timestamp) as ordered_at) "
                f"from read_parquet('{glob}')"
            )
        except duckdb.Error as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LoaderError(f"cannot read Parquet {source.glob}: {first_line}") from None
        yield connection
    finally:
        connection.close()


def attach_warehouse(database: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the file, under the name `warehouse`.

    Opened directly, the catalog takes the file's stem: a warehouse called
    cdp.duckdb or raw.duckdb then makes `cdp.x` or `raw.x` ambiguous between
    that catalog and the schema. Spills go beside the file, to `<file>.tmp`,
    as when DuckDB opens it itself: an in-memory connection would spill into
    the working directory (24 GB for a 10M-order sample). A new file takes
    STORAGE_VERSION; an existing one keeps its own.
    """
    connection = duckdb.connect(":memory:")
    try:
        path = str(database).replace("'", "''")
        connection.execute(f"set temp_directory = '{path}.tmp'")
        if read_only:
            options = " (read_only)"
        elif not Path(database).exists():
            options = f" (storage_version '{STORAGE_VERSION}')"
        else:
            options = ""
        connection.execute(f"attach '{path}' as warehouse{options}")
        connection.execute("use warehouse")
    except BaseException:
        connection.close()
        raise
    return connection


@contextmanager
def connect_warehouse(
    database: Path, *, read_only: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the DuckDB warehouse file; a missing or locked file is a LoaderError."""
    database = Path(database)
    if not database.is_file():
        raise LoaderError(f"database {database} does not exist; {BUILD_HINT}")
    try:
        connection = attach_warehouse(database, read_only=read_only)
    except duckdb.Error as exc:
        # DuckDB messages name the file and the cause (e.g. a lock held by dbt), no data.
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LoaderError(f"cannot open database {database}: {first_line}") from None
    try:
        # DuckDB draws its own bar on long queries; the loader decides what reaches the screen.
        connection.execute("set enable_progress_bar = false")
        yield connection
    finally:
        connection.close()


@contextmanager
def open_warehouse(database: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the DuckDB file read-only, set up to stream the batch records."""
    with connect_warehouse(database) as connection:
        # A scan without ORDER BY then keeps the stored order (see iter_record_chunks).
        connection.execute("set preserve_insertion_order = true")
        # Else the buffer pool keeps every block a scan read, up to 80% of the machine.
        connection.execute(f"set memory_limit = '{READ_MEMORY_LIMIT}'")
        yield connection


def _check_relation(connection: duckdb.DuckDBPyConnection, name: str,
                    schema: str = RELATION_SCHEMA) -> str:
    """The qualified name of the relation, once it is known to have every column."""
    relation = f"{schema}.{name}"
    present = {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    check_columns(relation, present)
    return relation


def check_columns(relation: str, present: set[str]) -> None:
    """A relation missing, or lacking a column an export reads, is a LoaderError."""
    if not present:
        raise LoaderError(f"relation {relation} is missing; {BUILD_HINT}")
    missing = [column for column in COLUMNS if column not in present]
    if missing:
        raise LoaderError(
            f"relation {relation} lacks column(s) {', '.join(missing)}; {BUILD_HINT}"
        )


def count_records(database: RecordSource, name: str = FULL_EXPORT,
                  schema: str = RELATION_SCHEMA) -> int:
    """How many lines an export of relation `<schema>.<name>` will write."""
    with open_source(database) as connection:
        relation = _check_relation(connection, name, _schema_of(database, schema))
        row = connection.execute(f"select count(*) from {relation}").fetchone()
        return int(row[0]) if row else 0


def _stored_in_seq_order(connection: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether a plain scan (insertion order) already yields the rows by ascending seq."""
    row = connection.execute(
        f"select count(*) from (select seq, lag(seq) over () as previous from {relation}) "
        "where seq is null or seq <= previous"
    ).fetchone()
    return bool(row) and row[0] == 0


def _schema_of(source: RecordSource, schema: str) -> str:
    """Parquet files always stand for cdp.cdp_batch_records (open_parquet_records)."""
    return RELATION_SCHEMA if isinstance(source, ParquetRecords) else schema


def iter_record_chunks(
    database: RecordSource, chunk_rows: int = DEFAULT_CHUNK_ROWS, name: str = FULL_EXPORT,
    schema: str = RELATION_SCHEMA,
) -> Iterator[list[BatchRecord]]:
    """Yield the batch records in `seq` order, `chunk_rows` at a time.

    dbt writes the relation in seq order, and then a plain scan streams it in
    constant memory; a sorted query would make DuckDB hold the whole result,
    so it is only the fallback for a relation stored in another order.
    """
    with open_source(database) as connection:
        relation = _check_relation(connection, name, _schema_of(database, schema))
        query = f"select {_SELECTED} from {relation}"
        if not _stored_in_seq_order(connection, relation):
            query += " order by seq"
        yield from record_chunks(connection.execute(query), relation, chunk_rows)


def record_chunks(cursor: Any, relation: str, chunk_rows: int) -> Iterator[list[BatchRecord]]:
    """The rows of a DB-API cursor over _SELECTED as chunks of BatchRecord, seq checked."""
    previous: int | None = None
    while rows := cursor.fetchmany(chunk_rows):
        chunk = [BatchRecord._make(row) for row in rows]
        previous = check_ascending(chunk, previous, relation)
        yield chunk


def check_ascending(chunk: list[BatchRecord], previous: int | None, relation: str) -> int:
    """The file order is the seq order: a repeated or null seq would make it ambiguous."""
    for record in chunk:
        if record.seq is None or (previous is not None and record.seq <= previous):
            raise LoaderError(f"{relation} has a repeated or null seq; {BUILD_HINT}")
        previous = record.seq
    return previous  # type: ignore[return-value]  # chunks are never empty
