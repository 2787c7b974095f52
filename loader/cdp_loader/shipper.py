"""Ship a batch folder written by `cdp-loader export` through the Batch API, resumably.

Per file of `manifest.json`, in order, unless the ledger says that these very
bytes reached a final status: verify it against the manifest, allocate a
batch, upload, poll to a final status, and on `error` read the error log and
write each failed record to `DIR/rejects.ndjson`, named by referenceId and
order_id (from the file's index sidecar). A `404` on a delete means the order
was already absent: done, counted apart, not a failure.

Rejected-record messages: CDP's message can echo values of the record (names,
emails). `rejects.ndjson` keeps a message only when it is one of the fixed
messages the CDP documentation lists (`DOCUMENTED_MESSAGES`); when such a text
is followed by ": details", only the text is kept, marked "(details withheld)";
any other message is replaced by `WITHHELD_MESSAGE`. The code is always kept.

Ordering: one batch in flight by default, as the CDP documentation advises.
With `concurrency > 1` files still start in manifest order, but CDP may apply
parallel batches in any order; a file holding deletes is therefore shipped
alone (all earlier files finished first, later files start after it ends).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdp_loader.api_client import (
    Allocation,
    ApiError,
    BatchApiClient,
    FileDigest,
    LogEntry,
)
from cdp_loader.batch_folder import (
    TERMINAL_STATES,
    BatchFileInfo,
    BatchFolder,
    Ledger,
    Manifest,
    entry_matches,
    new_entry,
    utc_now,
)
from cdp_loader.errors import EXIT_OK, EXIT_REJECTED, LoaderError
from cdp_loader.interrupts import raise_if_stopped

MAX_NEW_BATCHES_PER_RUN = 5
DOCUMENTED_MESSAGES = frozenset(message.lower() for message in (
    "Validation error",
    "Identity information missing",
    "Unsupported mode",
    "Action not allowed",
    "More than one order exists with that referenceId, please supply the orderedAt date "
    "for the order you wish to delete",
    "No order found for the provided referenceId and orderedAt attributes",
))
WITHHELD_MESSAGE = "(withheld: not a documented CDP message, it may echo record values)"
# Statuses after which the batchRef cannot succeed any more and a new one is needed.
DEAD_BATCH_STATUSES = frozenset({"corrupted", "expired"})
FINAL_BATCH_STATUSES = frozenset({"success", "error"}) | DEAD_BATCH_STATUSES
ALREADY_ABSENT_CODE = "404"

Progress = Callable[[str, str], None]


@dataclass
class ShipReport:
    """What the folder's batches came to (over every run, as the ledger records it)."""

    directory: str
    files: int = 0
    records: int = 0
    bytes: int = 0
    files_succeeded: int = 0
    files_errored: int = 0
    files_pending: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)
    deletes_already_absent: int = 0
    elapsed_seconds: float = 0.0
    per_file: list[dict[str, Any]] = field(default_factory=list)
    # The rejected records of the files' final batches, as rejects.ndjson has them.
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_code.values())

    @property
    def exit_code(self) -> int:
        """0 when every file succeeded with no rejected record, else 1."""
        clean = not (self.files_errored or self.files_pending or self.rejected)
        return EXIT_OK if clean else EXIT_REJECTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory, "files": self.files, "records": self.records,
            "bytes": self.bytes, "files_succeeded": self.files_succeeded,
            "files_errored": self.files_errored, "files_pending": self.files_pending,
            "rejected": self.rejected,
            "rejected_by_code": dict(sorted(self.rejected_by_code.items())),
            "deletes_already_absent": self.deletes_already_absent,
            "elapsed_seconds": round(self.elapsed_seconds, 3), "exit_code": self.exit_code,
            "per_file": self.per_file, "rejects": self.rejects,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def safe_message(message: str) -> str:
    """A message fit for rejects.ndjson: documented fixed texts only (see the module doc)."""
    text = message.strip()
    if text.rstrip(".").lower() in DOCUMENTED_MESSAGES:
        return text
    # CDP may add details after a documented text ("Validation error: ..."): drop them.
    head, colon, _details = text.partition(":")
    if colon and head.strip().lower() in DOCUMENTED_MESSAGES:
        return f"{head.strip()} (details withheld)"
    return WITHHELD_MESSAGE


def _status_code(document: dict[str, Any]) -> str:
    status = document.get("status")
    if isinstance(status, dict):
        return str(status.get("code") or "")
    return str(status or "")


def _public_status(document: dict[str, Any]) -> dict[str, Any]:
    """The status object without its `log` URL (a presigned secret)."""
    status = document.get("status")
    if not isinstance(status, dict):
        return {"code": _status_code(document)}
    return {key: value for key, value in status.items() if key != "log"}


class _Shipper:
    """The state machine of spec §2 for every file of one folder."""

    def __init__(self, folder: BatchFolder, client: BatchApiClient, ledger: Ledger, *,
                 poll_interval: float, poll_cap: float, progress: Progress | None) -> None:
        self.folder = folder
        self.client = client
        self.ledger = ledger
        self.poll_interval = poll_interval
        self.poll_cap = poll_cap
        self.progress = progress or (lambda _file, _message: None)

    # --- one file ---------------------------------------------------------------------

    def ship_file(self, item: BatchFileInfo) -> None:
        """Drive one file from whatever its ledger says to a terminal state.

        The bytes are checked first: a finished entry counts only for the bytes
        it shipped, and the manifest must name the bytes on disk.
        """
        body = self.folder.read_verified(item)
        self.ledger.begin(item, self.folder.index_md5(item))
        if self.ledger.finished(item):
            return
        digest = FileDigest.of(body)
        allocation: Allocation | None = None  # the upload URL lives only in memory
        new_batches = 0
        while True:
            raise_if_stopped()
            entry = self.ledger.entry(item.file)
            assert entry is not None
            state, batch_ref = entry["state"], entry["batchRef"]
            if state in TERMINAL_STATES:
                return
            if state == "pending":
                if batch_ref:
                    self.ledger.retire_batch(item.file, "abandoned before upload")
                if new_batches >= MAX_NEW_BATCHES_PER_RUN:
                    raise LoaderError(f"{item.file}: {new_batches} batches in a row could not "
                                      "take the upload; stopping")
                new_batches += 1
                allocation = self._allocate(item, digest)
            elif state == "allocated":
                if allocation is None or allocation.batch_ref != batch_ref:
                    # A rerun after a crash: the URL was never stored, and no byte was sent.
                    self.ledger.retire_batch(item.file, "abandoned before upload")
                    continue
                self._upload(item, body, digest, allocation)
            else:  # uploading / uploaded: the server may hold the file; ask it first
                allocation = self._follow(item, entry, digest, allocation)

    def _allocate(self, item: BatchFileInfo, digest: FileDigest) -> Allocation:
        batch_ref = str(uuid.uuid4())
        self.ledger.start_batch(item.file, batch_ref)
        allocation = self.client.allocate(batch_ref, digest)
        self.ledger.update(item.file, state="allocated", allocated_at=utc_now(),
                           location_expiry=allocation.location_expiry)
        self.progress(item.file, f"allocated batch {batch_ref}")
        return allocation

    def _upload(self, item: BatchFileInfo, body: bytes, digest: FileDigest,
                allocation: Allocation) -> None:
        self.ledger.update(item.file, state="uploading")
        try:
            self.client.upload(allocation.location_href, body, digest,
                               f"{item.file} to batch {allocation.batch_ref}")
        except ApiError as exc:
            # Storage refused the bytes (expired URL, bad digest): nothing was accepted,
            # so this batchRef is spent and a new one is needed.
            self.ledger.retire_batch(item.file, f"upload refused (HTTP {exc.status_code})")
            self.progress(item.file, f"upload refused (HTTP {exc.status_code}); "
                                     "allocating a new batch")
            return
        self.ledger.update(item.file, state="uploaded", uploaded_at=utc_now())
        self.progress(item.file, f"uploaded {item.records} records")

    def _follow(self, item: BatchFileInfo, entry: dict[str, Any], digest: FileDigest,
                allocation: Allocation | None) -> Allocation | None:
        """Ask the server about an uploaded (or maybe uploaded) batch and act on its answer."""
        batch_ref = entry["batchRef"]
        try:
            document = self.client.status(batch_ref)
        except ApiError as exc:
            if exc.status_code != 404:
                raise
            self.ledger.retire_batch(item.file, "unknown to the server")
            return None
        code = _status_code(document)
        if code == "uploading" and entry["state"] == "uploading":
            # The upload did not complete: send it again to the same batchRef, never a new one
            # while the old one could still take the file.
            return self._resume_upload(item, batch_ref, digest, allocation)
        document = self._poll(item, batch_ref, document)
        code = _status_code(document)
        if code in DEAD_BATCH_STATUSES:
            self.ledger.retire_batch(item.file, code)
            self.progress(item.file, f"batch {batch_ref} {code}; allocating a new batch")
            return None
        self._finish(item, batch_ref, document)
        return allocation

    def _resume_upload(self, item: BatchFileInfo, batch_ref: str, digest: FileDigest,
                       allocation: Allocation | None) -> Allocation | None:
        if allocation is None or allocation.batch_ref != batch_ref:
            try:
                # Allocate is idempotent on a batchRef with the same checksum and size.
                allocation = self.client.allocate(batch_ref, digest)
            except ApiError as exc:
                if exc.status_code is None or exc.status_code >= 500:
                    raise
                self.ledger.retire_batch(item.file, f"no new upload URL (HTTP {exc.status_code})")
                return None
        self.ledger.update(item.file, state="allocated",
                           location_expiry=allocation.location_expiry)
        return allocation

    def _poll(self, item: BatchFileInfo, batch_ref: str, document: dict[str, Any]
              ) -> dict[str, Any]:
        interval = self.poll_interval
        last_code = ""
        while (code := _status_code(document)) not in FINAL_BATCH_STATUSES:
            if code != last_code:
                self.progress(item.file, f"batch {batch_ref} {code or 'without status'}")
                last_code = code
            self.client.deadline.sleep(interval, f"waiting for batch {batch_ref}")
            interval = min(interval * 1.5, self.poll_cap)
            document = self.client.status(batch_ref)
        return document

    def _finish(self, item: BatchFileInfo, batch_ref: str, document: dict[str, Any]) -> None:
        code = _status_code(document)
        status = _public_status(document)
        if code == "success":
            self.folder.write_rejects(item.file, [])
            self.ledger.update(item.file, state="success", status=status, finished_at=utc_now())
            self.progress(item.file, f"batch {batch_ref} success")
            return
        log_url = (document.get("status") or {}).get("log")
        entries = self.client.fetch_error_log(log_url, batch_ref) if log_url else []
        rejects, absent = self._classify(item, batch_ref, entries)
        self.folder.write_rejects(item.file, rejects)
        by_code = Counter(str(reject["code"]) for reject in rejects)
        # A line with no ref is about the file: CDP took none of its records.
        file_rejected = any(reject["ref"] is None for reject in rejects)
        self.ledger.update(item.file, state="error", status=status, finished_at=utc_now(),
                           rejected=len(rejects), rejected_by_code=dict(by_code),
                           deletes_already_absent=absent, log_missing=not log_url,
                           file_rejected=file_rejected)
        detail = "no error log" if not log_url else f"{len(rejects)} rejected records"
        self.progress(item.file, f"batch {batch_ref} error ({detail}, "
                                 f"{absent} deletes already absent)")

    def _classify(self, item: BatchFileInfo, batch_ref: str, entries: list[LogEntry]
                  ) -> tuple[list[dict[str, Any]], int]:
        """Rejected records (as rejects.ndjson lines) and the count of already-absent deletes."""
        index = self.folder.read_index(item)
        rejects, absent = [], 0
        for entry in entries:
            if entry.is_success:
                continue
            row = index.get(entry.ref or "")
            if row is not None and row.mode == "delete" and entry.code == ALREADY_ABSENT_CODE:
                absent += 1
                continue
            rejects.append({
                "file": item.file, "batchRef": batch_ref, "ref": entry.ref,
                "reference_id": row.reference_id if row else None,
                "order_id": row.order_id if row else None,
                "mode": row.mode if row else None,
                "code": entry.code, "message": safe_message(entry.message),
            })
        return rejects, absent



def ship_directory(directory: Path | str, client: BatchApiClient, *, concurrency: int = 1,
                   poll_interval: float = 5.0, poll_cap: float = 120.0,
                   progress: Progress | None = None) -> ShipReport:
    """Ship every not-yet-final file of `directory`; the overall deadline is `client.deadline`.

    Holds the folder's lock while it ships (a held lock is a FolderLocked
    naming its holder). Raises LoaderError on configuration or connection
    failures (the ledger keeps what was done, so a rerun resumes); returns the
    report otherwise.
    """
    started = time.monotonic()
    folder = BatchFolder(directory)
    if not folder.path.is_dir():
        raise LoaderError(f"{folder.path} is not a folder")
    if concurrency < 1:
        raise LoaderError("--concurrency must be at least 1")
    with folder.locked("ship"):
        return _ship(folder, client, concurrency, poll_interval, poll_cap, progress, started)


def _ship(folder: BatchFolder, client: BatchApiClient, concurrency: int, poll_interval: float,
          poll_cap: float, progress: Progress | None, started: float) -> ShipReport:
    manifest = folder.manifest()
    ledger = folder.ledger()
    shipper = _Shipper(folder, client, ledger, poll_interval=poll_interval,
                       poll_cap=poll_cap, progress=progress)
    if concurrency == 1:
        for item in manifest.files:
            shipper.ship_file(item)
    else:
        _ship_concurrently(shipper, manifest, concurrency)
    return build_report(folder, manifest, ledger, time.monotonic() - started)


def _ship_concurrently(shipper: _Shipper, manifest: Manifest, concurrency: int) -> None:
    """Up to `concurrency` files in flight, started in order; files with deletes ship alone."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        running: list[Future[None]] = []

        def settle(limit: int) -> None:
            """Wait until at most `limit` files are in flight; re-raise the first failure."""
            nonlocal running
            while True:
                for future in running:
                    if future.done():
                        future.result()
                running = [future for future in running if not future.done()]
                if len(running) <= limit:
                    return
                wait(running, return_when=FIRST_COMPLETED)

        try:
            for item in manifest.files:
                if shipper.ledger.finished(item):
                    continue
                alone = shipper.folder.has_deletes(item)
                settle(0 if alone else concurrency - 1)
                running.append(pool.submit(shipper.ship_file, item))
                if alone:
                    settle(0)
            settle(0)
        except BaseException:
            for future in running:
                future.cancel()
            raise


def build_report(folder: BatchFolder, manifest: Manifest, ledger: Ledger,
                 elapsed: float) -> ShipReport:
    """Summarise the ledger entries of the manifest's files (entries about other bytes
    count as not shipped)."""
    report = ShipReport(directory=str(folder.path), elapsed_seconds=elapsed)
    entries = ledger.files()
    by_code: Counter[str] = Counter()
    final_batches: dict[str, str] = {}
    for item in manifest.files:
        report.files += 1
        report.records += item.records
        report.bytes += item.bytes
        entry = entries.get(item.file)
        if entry is None or not entry_matches(entry, item):
            entry = new_entry(item, item.index_md5 or "")
        state = entry["state"]
        rejected = int(entry.get("rejected") or 0)
        failed = state == "error" and (rejected > 0 or entry.get("log_missing"))
        if state == "success" or (state == "error" and not failed):
            report.files_succeeded += 1
        elif failed:
            report.files_errored += 1
        else:
            report.files_pending += 1
        if state in ("success", "error") and entry.get("batchRef"):
            final_batches[item.file] = entry["batchRef"]
        by_code.update({code: int(n) for code, n in (entry.get("rejected_by_code") or {}).items()})
        report.deletes_already_absent += int(entry.get("deletes_already_absent") or 0)
        report.per_file.append({
            "file": item.file, "records": item.records, "state": state,
            "batchRef": entry.get("batchRef"), "rejected": rejected,
            "deletes_already_absent": int(entry.get("deletes_already_absent") or 0),
            "updated_at": entry.get("updated_at"),
        })
    report.rejected_by_code = dict(by_code)
    report.rejects = [line for line in folder.read_rejects()
                      if final_batches.get(line.get("file")) == line.get("batchRef")]
    return report

