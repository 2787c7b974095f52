"""What CDP now holds: the records of finished batches, kept in `cdp.cdp_shipped_orders`.

After a ship (also a partial or a resumed one), every file of the folder's
manifest whose batch reached a final status adds one row per record to the
append-only table that dbt creates (`on-run-start`) and reads as a source, so
that the next daily run sends only what changed and analysts can ask "what did
we send for this order, and when". A row holds keys only: order_id,
referenceId, orderedAt, the hash of the value sent, the mode, the outcome, the
batchRef, the record's ref, the file and when its batch finished. No personal
data.

Outcome per record:

    rejected        rejects.ndjson lists the ref for that file and batchRef (error_code
                    is CDP's code)
    already_absent  a delete CDP answered 404 for (no order matched: done, not a failure)
    success         every other record of a batch that ended `success` or `error`: the
                    records that succeeded inside a batch that ended `error` count as shipped

A batch refused as a whole (its error log has a line with no ref) or whose
error log is missing adds no row: CDP did not say it took any of its records,
so the next daily run sends them again.

The shipper writes a 404 on a delete to no file, only a count per batch
(`deletes_already_absent` in the ledger). So when rejects.ndjson has no line
for them, a batch's deletes are all `already_absent` when that count covers
every delete of the batch that was not rejected, and `success` otherwise.

The work is set-wise in DuckDB: the index sidecars are read with read_csv, the
rejects with read_json, joined, and inserted where (batch_ref, record_ref) is
not present yet, so running it twice adds nothing twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from cdp_loader.batch_folder import (
    INDEX_DELIMITER,
    INDEX_HEADER,
    INDEX_QUOTE,
    REJECT_KEYS,
    BatchFileInfo,
    BatchFolder,
)
from cdp_loader.errors import LoaderError
from cdp_loader.records import connect_warehouse

SHIPPED_ORDERS = "cdp.cdp_shipped_orders"
DELTA_SUMMARY = "cdp.cdp_delta_summary"
BUILD_FIRST = "run `dbt build --profiles-dir profiles` (or `cdp-loader run`) first"
# Every index column is read as text; the recorder casts what it needs.
_INDEX_COLUMNS = dict.fromkeys(INDEX_HEADER, "VARCHAR")
_REJECT_COLUMNS = dict.fromkeys(REJECT_KEYS, "VARCHAR")
# The text the export writes for orderedAt (records.py) and the ledger for its times.
_UTC_TEXT = "%Y-%m-%dT%H:%M:%S.%gZ"


@dataclass(frozen=True)
class StateCounts:
    """What one recording added to cdp.cdp_shipped_orders."""

    files: int = 0  # files of the manifest whose batch reached a final status
    files_not_final: int = 0  # left for a later, resumed ship to finish and record
    files_refused: int = 0  # final, but CDP took none of their records (or did not say which)
    recorded: int = 0  # rows added now
    already_recorded: int = 0  # rows of those files an earlier recording had added
    succeeded: int = 0  # of the rows added now, by outcome
    rejected: int = 0
    already_absent: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def line(self) -> str:
        """The one-line report."""
        pending = f", {self.files_not_final} files not final yet" if self.files_not_final else ""
        if self.files_refused:
            pending += f", {self.files_refused} files refused whole: not recorded"
        return (f"recorded {self.recorded:,} records of {self.files} finished files "
                f"(success {self.succeeded:,}, rejected {self.rejected:,}, already absent "
                f"{self.already_absent:,}; {self.already_recorded:,} recorded before{pending})")


@dataclass(frozen=True)
class DeltaSummary:
    """What the day's delta holds, in orders (one row of cdp.cdp_delta_summary)."""

    new_orders: int
    changed_orders: int
    unchanged_orders: int
    retried_orders: int
    deleted_orders: int
    moved_orders: int
    rejected_unchanged_orders: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def lines(self) -> list[str]:
        """The counts as the report prints them."""
        return [
            f"new            {self.new_orders:>10,}",
            f"changed        {self.changed_orders:>10,}",
            f"unchanged      {self.unchanged_orders:>10,}  (skipped: CDP has them)",
            f"deleted        {self.deleted_orders:>10,}",
            f"moved          {self.moved_orders:>10,}  (old orderedAt deleted, then re-sent)",
            f"retried        {self.retried_orders:>10,}  (rejected last time, changed since)",
            f"held back      {self.rejected_unchanged_orders:>10,}  "
            "(rejected as they still are: fix them at the source)",
        ]


@dataclass(frozen=True)
class RawFreshness:
    """Whether the raw tables were refreshed since the last ship (cdp.cdp_delta_summary).

    `raw_updated_at` is the latest version the order system wrote, by its
    clock; `last_shipped_at` when CDP last took a record, by the loader's
    (both UTC, None when there is none). A nightly replication that ran
    brings versions written after the last ship; when none is later, the
    night would ship only what an earlier one left behind, and report it as
    a success.
    """

    raw_updated_at: datetime | None
    last_shipped_at: datetime | None

    @property
    def refreshed(self) -> bool:
        if self.last_shipped_at is None:
            return True
        return self.raw_updated_at is not None and self.raw_updated_at > self.last_shipped_at

    def to_dict(self) -> dict[str, str | None]:
        return {name: None if moment is None else f"{moment:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
                for name, moment in (("raw_updated_at", self.raw_updated_at),
                                     ("last_shipped_at", self.last_shipped_at))}

    def stale_reason(self) -> str:
        """The one line `run --daily` stops with."""
        latest = self.to_dict()
        return (f"the raw tables hold no version newer than the last ship "
                f"(latest updated_at {latest['raw_updated_at'] or 'none'}, last shipped "
                f"{latest['last_shipped_at']}): load them first, or pass --allow-stale-sources "
                "to send what is still pending")


def read_delta_summary(database: Path) -> DeltaSummary:
    """The one row of cdp.cdp_delta_summary (the warehouse opened read-only)."""
    with connect_warehouse(database, read_only=True) as connection:
        try:
            row = connection.execute(
                "select new_orders, changed_orders, unchanged_orders, retried_orders, "
                f"deleted_orders, moved_orders, rejected_unchanged_orders from {DELTA_SUMMARY}"
            ).fetchone()
        except duckdb.CatalogException:
            raise LoaderError(f"{database} has no {DELTA_SUMMARY}; {BUILD_FIRST}") from None
    if row is None:
        raise LoaderError(f"{DELTA_SUMMARY} is empty; {BUILD_FIRST}")
    return DeltaSummary(*(int(value or 0) for value in row))


def read_raw_freshness(database: Path) -> RawFreshness:
    """The raw tables' latest version and the last ship, from cdp.cdp_delta_summary."""
    with connect_warehouse(database, read_only=True) as connection:
        try:
            row = connection.execute(
                f"select raw_updated_at, last_shipped_at from {DELTA_SUMMARY}").fetchone()
        except duckdb.Error:
            raise LoaderError(f"{database} has no {DELTA_SUMMARY} with raw_updated_at; "
                              f"{BUILD_FIRST}") from None
    if row is None:
        raise LoaderError(f"{DELTA_SUMMARY} is empty; {BUILD_FIRST}")
    return RawFreshness(*row)


def record_shipped_state(batch_dir: Path, database: Path) -> StateCounts:
    """Append the records of every finished batch of BATCH_DIR to cdp.cdp_shipped_orders.

    Idempotent: a record already present (same batch_ref and record_ref) is not
    added again. Opens the warehouse read-write for this step only.
    """
    folder = BatchFolder(batch_dir)
    manifest = folder.manifest()
    ledger = folder.ledger()
    entries = ledger.files()
    # Only the bytes CDP took: an entry about other bytes than the manifest names is not it,
    # and a batch refused whole (or whose error log is missing) names no record CDP took.
    final = [(item, entries[item.file]) for item in manifest.files if ledger.finished(item)]
    finished = [(item, entry) for item, entry in final if not _refused_whole(entry)]
    not_final = len(manifest.files) - len(final)
    refused = len(final) - len(finished)
    if not finished:
        return StateCounts(files_not_final=not_final, files_refused=refused)
    with connect_warehouse(database, read_only=False) as connection:
        _check_table(connection, database)
        for item, entry in finished:
            _check_index_is_the_shipped_one(folder, item, entry)
        connection.execute("begin transaction")
        try:
            _stage_finished_files(connection, folder, finished)
            _stage_records(connection)
            _stage_rejects(connection, folder.rejects_path)
            counts = _insert_new_rows(connection, len(finished), not_final, refused)
            connection.execute("commit")
        except duckdb.Error as exc:
            # A full disk, a file someone edited: nothing of this recording is kept.
            connection.execute("rollback")
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LoaderError(f"cannot record the shipped state in {database}: "
                              f"{first_line}") from None
        except BaseException:
            connection.execute("rollback")
            raise
    return counts


def _check_table(connection: duckdb.DuckDBPyConnection, database: Path) -> None:
    schema, name = SHIPPED_ORDERS.split(".")
    found = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name = ?", [schema, name]).fetchone()
    if not found or not found[0]:
        raise LoaderError(f"{database} has no table {SHIPPED_ORDERS}; {BUILD_FIRST}")


def _check_index_is_the_shipped_one(folder: BatchFolder, item: BatchFileInfo,
                                    entry: dict[str, Any]) -> None:
    """The rows come from the index: it must be the one of the bytes that were shipped."""
    if not folder.index_path(item).is_file():
        raise LoaderError(f"index {item.index} of {folder.path} is missing; the shipped "
                          "state cannot be recorded without it")
    checksum = folder.index_md5(item)
    if entry.get("index_md5") and entry["index_md5"] != checksum:
        raise LoaderError(f"index {item.index} of {folder.path} is not the one of the "
                          "shipped batch; the shipped state cannot be recorded from it")


def _stage_finished_files(connection: duckdb.DuckDBPyConnection, folder: BatchFolder,
                          finished: list[tuple[BatchFileInfo, dict[str, Any]]]) -> None:
    """temp table finished_files: one row per file whose batch reached a final status."""
    connection.execute(
        "create temp table finished_files (batch_file varchar, index_path varchar, "
        "batch_ref varchar, state varchar, finished_at varchar, deletes_already_absent bigint)")
    rows = []
    for item, entry in finished:
        index_path = folder.index_path(item)
        rows.append((item.file, str(index_path.resolve()), entry.get("batchRef"),
                     entry["state"], entry.get("finished_at") or entry.get("updated_at"),
                     int(entry.get("deletes_already_absent") or 0)))
    connection.executemany("insert into finished_files values (?, ?, ?, ?, ?, ?)", rows)


def _stage_records(connection: duckdb.DuckDBPyConnection) -> None:
    """temp table shipped_records: every line of the finished files, from their index."""
    paths = [row[0] for row in connection.execute(
        "select index_path from finished_files order by batch_file").fetchall()]
    connection.execute(
        "create temp table shipped_records as "
        "select f.batch_file, f.batch_ref, f.state, f.deletes_already_absent, "
        f"strptime(f.finished_at, '{_UTC_TEXT}') as shipped_at, i.ref as record_ref, "
        "cast(i.order_id as bigint) as order_id, i.reference_id, i.mode, "
        f"strptime(i.ordered_at, '{_UTC_TEXT}') as ordered_at, i.record_hash "
        f"from read_csv(?, delim = '{INDEX_DELIMITER}', header = true, "
        f"quote = '{INDEX_QUOTE}', escape = '{INDEX_QUOTE}', "
        f"columns = {_duckdb_struct(_INDEX_COLUMNS)}, filename = true) as i "
        "join finished_files as f on f.index_path = i.filename",
        [paths])


def _stage_rejects(connection: duckdb.DuckDBPyConnection, rejects_path: Path) -> None:
    """temp table rejects: the rejected refs of each file's final batch."""
    if rejects_path.is_file() and rejects_path.stat().st_size:
        connection.execute(
            "create temp table rejects as select distinct file as batch_file, "
            "\"batchRef\" as batch_ref, ref as record_ref, code as error_code "
            "from read_json(?, format = 'newline_delimited', "
            f"columns = {_duckdb_struct(_REJECT_COLUMNS)})",
            [str(rejects_path)])
    else:
        connection.execute("create temp table rejects (batch_file varchar, batch_ref varchar, "
                           "record_ref varchar, error_code varchar)")


def _refused_whole(entry: dict[str, Any]) -> bool:
    return bool(entry.get("file_rejected") or entry.get("log_missing"))


def _insert_new_rows(connection: duckdb.DuckDBPyConnection, files: int,
                     not_final: int, refused: int) -> StateCounts:
    connection.execute("""
        create temp table outcomes as
        with joined as (
            select s.*, r.error_code,
                count(*) filter (where s.mode = 'delete' and r.record_ref is null)
                    over (partition by s.batch_file) as deletes_not_rejected
            from shipped_records as s
            left join rejects as r
                on r.batch_file = s.batch_file and r.batch_ref = s.batch_ref
                and r.record_ref = s.record_ref
        )
        select order_id, reference_id, ordered_at, record_hash, mode,
            case
                when error_code = '404' and mode = 'delete' then 'already_absent'
                when error_code is not null then 'rejected'
                -- 404s on deletes are only counted by the shipper (see the module doc).
                when mode = 'delete' and state = 'error' and deletes_already_absent > 0
                    and deletes_already_absent = deletes_not_rejected then 'already_absent'
                else 'success'
            end as outcome,
            case when error_code = '404' and mode = 'delete' then null
                else error_code end as error_code,
            batch_ref, record_ref, batch_file, shipped_at
        from joined
        qualify row_number() over (partition by batch_ref, record_ref order by order_id) = 1
    """)
    total = connection.execute("select count(*) from outcomes").fetchone()
    connection.execute(f"""
        create temp table added as
        select o.* from outcomes as o
        where not exists (
            select 1 from {SHIPPED_ORDERS} as t
            where t.batch_ref = o.batch_ref and t.record_ref = o.record_ref
        )
    """)
    try:
        connection.execute(f"""
            insert into {SHIPPED_ORDERS} (order_id, reference_id, ordered_at, record_hash,
                mode, outcome, error_code, batch_ref, record_ref, batch_file, shipped_at)
            select order_id, reference_id, ordered_at, record_hash, mode, outcome, error_code,
                batch_ref, record_ref, batch_file, shipped_at
            from added
        """)
    except duckdb.ConstraintException as exc:
        first_line = str(exc).splitlines()[0]
        raise LoaderError(f"{SHIPPED_ORDERS} refused the shipped records: {first_line}") from None
    by_outcome = dict(connection.execute(
        "select outcome, count(*) from added group by outcome").fetchall())
    recorded = sum(by_outcome.values())
    return StateCounts(
        files=files, files_not_final=not_final, files_refused=refused, recorded=recorded,
        already_recorded=int(total[0] if total else 0) - recorded,
        succeeded=by_outcome.get("success", 0), rejected=by_outcome.get("rejected", 0),
        already_absent=by_outcome.get("already_absent", 0),
    )


def _duckdb_struct(columns: dict[str, str]) -> str:
    """A DuckDB struct literal {'name': 'TYPE', ...} for read_csv / read_json `columns`."""
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
