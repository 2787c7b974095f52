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

The outcomes are worked out here, file by file, from the index sidecars and
rejects.ndjson (read through BatchFolder, one file in memory at a time), and
written once as a staged CSV that every engine bulk-loads (DuckDB read_csv,
PostgreSQL COPY, Spark's CSV reader); the warehouse then inserts the rows whose
(batch_ref, record_ref) it does not hold yet (`Warehouse.append_new_rows`), so
running it twice adds nothing twice.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cdp_loader.batch_folder import (
    INDEX_DELIMITER,
    INDEX_QUOTE,
    BatchFileInfo,
    BatchFolder,
)
from cdp_loader.errors import LoaderError
from cdp_loader.warehouse import Column, Warehouse, WarehouseRef, opened, write_staged_rows

SHIPPED_ORDERS = "cdp_shipped_orders"
DELTA_SUMMARY = "cdp_delta_summary"
BUILD_FIRST = "run `dbt build --profiles-dir profiles` (or `cdp-loader run`) first"
# The table's columns, in its order (macros/cdp/create_shipped_orders_table.sql).
SHIPPED_COLUMNS = (
    Column("order_id", "bigint"), Column("reference_id", "text"),
    Column("ordered_at", "timestamp"), Column("record_hash", "text"), Column("mode", "text"),
    Column("outcome", "text"), Column("error_code", "text"), Column("batch_ref", "text"),
    Column("record_ref", "text"), Column("batch_file", "text"),
    Column("shipped_at", "timestamp"),
)
SHIPPED_KEY = ("batch_ref", "record_ref")


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


def read_delta_summary(database: WarehouseRef | Warehouse) -> DeltaSummary:
    """The one row of cdp.cdp_delta_summary."""
    with opened(database) as warehouse:
        relation = warehouse.relation(DELTA_SUMMARY)
        if DELTA_SUMMARY not in warehouse.tables():
            raise LoaderError(f"{warehouse.target.describe()} has no {relation}; {BUILD_FIRST}")
        rows = warehouse.fetch(
            "select new_orders, changed_orders, unchanged_orders, retried_orders, "
            f"deleted_orders, moved_orders, rejected_unchanged_orders from {relation}")
    if not rows:
        raise LoaderError(f"{relation} is empty; {BUILD_FIRST}")
    return DeltaSummary(*(int(value or 0) for value in rows[0].values()))


def read_raw_freshness(database: WarehouseRef | Warehouse) -> RawFreshness:
    """The raw tables' latest version and the last ship, from cdp.cdp_delta_summary."""
    with opened(database) as warehouse:
        relation = warehouse.relation(DELTA_SUMMARY)
        if DELTA_SUMMARY not in warehouse.tables():
            raise LoaderError(f"{warehouse.target.describe()} has no {relation}; {BUILD_FIRST}")
        rows = warehouse.fetch(f"select raw_updated_at, last_shipped_at from {relation}")
    if not rows:
        raise LoaderError(f"{relation} is empty; {BUILD_FIRST}")
    return RawFreshness(rows[0]["raw_updated_at"], rows[0]["last_shipped_at"])


def record_shipped_state(batch_dir: Path, database: WarehouseRef | Warehouse) -> StateCounts:
    """Append the records of every finished batch of BATCH_DIR to cdp.cdp_shipped_orders.

    Idempotent: a record already present (same batch_ref and record_ref) is not
    added again; one transaction where the engine has them. DATABASE is the
    warehouse (a target, a DuckDB file, or one already open).
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
    with opened(database) as warehouse:
        if SHIPPED_ORDERS not in warehouse.tables():
            raise LoaderError(f"{warehouse.target.describe()} has no table "
                              f"{warehouse.relation(SHIPPED_ORDERS)}; {BUILD_FIRST}")
        for item, entry in finished:
            _check_index_is_the_shipped_one(folder, item, entry)
        with tempfile.TemporaryDirectory(prefix="cdp-shipped-") as work:
            staged = Path(work) / "shipped.csv"
            write_staged_rows(staged, _shipped_rows(folder, finished))
            total, added = warehouse.append_new_rows(SHIPPED_ORDERS, SHIPPED_COLUMNS, staged,
                                                     SHIPPED_KEY, count_by="outcome")
    recorded = sum(added.values())
    return StateCounts(
        files=len(finished), files_not_final=not_final, files_refused=refused,
        recorded=recorded, already_recorded=total - recorded,
        succeeded=added.get("success", 0), rejected=added.get("rejected", 0),
        already_absent=added.get("already_absent", 0))


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


def _rejected_refs(folder: BatchFolder) -> dict[tuple[Any, Any], dict[str, str | None]]:
    """(file, batchRef) -> ref -> CDP's code (as text), from rejects.ndjson."""
    rejected: dict[tuple[Any, Any], dict[str, str | None]] = {}
    for line in folder.read_rejects():
        if line.get("ref") is None:
            continue  # about the whole file: names no record
        code = line.get("code")
        refs = rejected.setdefault((line.get("file"), line.get("batchRef")), {})
        refs.setdefault(str(line["ref"]), None if code is None else str(code))
    return rejected


def _index_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=INDEX_DELIMITER, quotechar=INDEX_QUOTE)


def _timestamp(text: str | None) -> str | None:
    """The export's and the ledger's UTC text (2030-01-02T03:04:05.678Z) as SQL takes it."""
    return text.replace("T", " ").removesuffix("Z") if text else None


def _shipped_rows(folder: BatchFolder, finished: list[tuple[BatchFileInfo, dict[str, Any]]]
                  ) -> Iterator[tuple[object, ...]]:
    """One row of cdp_shipped_orders per record of each finished file, in SHIPPED_COLUMNS."""
    rejected = _rejected_refs(folder)
    for item, entry in finished:
        batch_ref = entry.get("batchRef")
        refs = rejected.get((item.file, batch_ref), {}) if batch_ref is not None else {}
        path = folder.index_path(item)
        # 404s on deletes are only counted by the shipper (see the module doc): the deletes
        # are all already absent when the count covers every delete not rejected.
        deletes_not_rejected = sum(1 for row in _index_rows(path)
                                   if row["mode"] == "delete" and row["ref"] not in refs)
        absent = int(entry.get("deletes_already_absent") or 0)
        all_absent = entry["state"] == "error" and 0 < absent == deletes_not_rejected
        shipped_at = _timestamp(entry.get("finished_at") or entry.get("updated_at"))
        seen: set[str] = set()
        for row in _index_rows(path):
            ref, mode = row["ref"], row["mode"]
            if ref in seen:
                continue
            seen.add(ref)
            code = refs.get(ref)
            if ref in refs and code == "404" and mode == "delete":
                outcome, code = "already_absent", None
            elif ref in refs:
                outcome = "rejected"
            elif mode == "delete" and all_absent:
                outcome = "already_absent"
            else:
                outcome = "success"
            yield (row["order_id"] or None, row["reference_id"], _timestamp(row["ordered_at"]),
                   row["record_hash"] or None, mode, outcome, code, batch_ref, ref, item.file,
                   shipped_at)


def _refused_whole(entry: dict[str, Any]) -> bool:
    return bool(entry.get("file_rejected") or entry.get("log_missing"))
