"""The sandbox's batches: allocation, upload bookkeeping and the background processing.

Status flow (spec §2.6): uploading -> file_uploaded -> processing -> success | error, or
uploading -> corrupted when the upload's size or MD5 differs from the allocated values.
"""

from __future__ import annotations

import copy
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cdp_loader.sandbox.faults import FaultPlan
from cdp_loader.sandbox.orders import OrderStore
from cdp_loader.sandbox.processing import error_log, process_lines, unpack

UPLOADING = "uploading"
FILE_UPLOADED = "file_uploaded"
PROCESSING = "processing"
SUCCESS = "success"
ERROR = "error"
CORRUPTED = "corrupted"
STATUSES = (UPLOADING, FILE_UPLOADED, PROCESSING, SUCCESS, ERROR, CORRUPTED)
MAX_FILE_BYTES = 50_000_000


class AllocationConflict(Exception):
    """The batchRef exists with another checksum or size (HTTP 409)."""


class AlreadyUploaded(Exception):
    """A second, different file was sent for a batch that already has one."""


@dataclass
class Batch:
    """One allocated batch and what became of it."""

    ref: str
    checksum: str
    size: int
    upload_expires: int  # epoch seconds; the upload URL is refused after it
    created_at: datetime
    modified_at: datetime
    sequence: int
    status: str = UPLOADING
    uploaded_md5: str | None = None
    log: bytes | None = None
    stats: dict[str, int] | None = None


@dataclass
class BatchStore:
    """Every batch, the records received and the worker that processes uploads."""

    faults: FaultPlan
    orders: OrderStore
    processing_seconds: float = 0.0
    url_expiry_seconds: float = 3600.0
    clock: Callable[[], float] = time.time
    _batches: dict[str, Batch] = field(default_factory=dict, init=False)
    _received: list[dict[str, Any]] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _queue: queue.Queue[tuple[str, bytes] | None] = field(default_factory=queue.Queue, init=False)
    _idle: threading.Condition = field(default_factory=threading.Condition, init=False)
    _pending: int = field(default=0, init=False)
    _released: threading.Event = field(default_factory=threading.Event, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _worker: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        """Start the processing worker."""
        self._released.set()
        self._worker = threading.Thread(target=self._work, name="sandbox-processing", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop the worker; a batch still waiting stays in its current status."""
        self._stopping.set()
        self._released.set()
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=5)

    def allocate(self, ref: str, checksum: str, size: int) -> tuple[Batch, bool]:
        """Create the batch, or return the existing one when it was allocated alike.

        Returns (batch copy, created). Raises AllocationConflict on another checksum/size.
        """
        with self._lock:
            existing = self._batches.get(ref)
            if existing is not None:
                if (existing.checksum, existing.size) != (checksum, size):
                    raise AllocationConflict(ref)
                return copy.deepcopy(existing), False
            now = self.clock()
            expires = int(now + self.url_expiry_seconds)
            if self.faults.take_expired_url():
                expires = int(now) - 1
            moment = _utc(now)
            batch = Batch(ref, checksum, size, expires, moment, moment, len(self._batches))
            self._batches[ref] = batch
            return copy.deepcopy(batch), True

    def get(self, ref: str) -> Batch | None:
        """A copy of the batch, or None when it was never allocated."""
        with self._lock:
            batch = self._batches.get(ref)
            return copy.deepcopy(batch) if batch is not None else None

    def all(self) -> list[Batch]:
        """Copies of every batch, oldest first."""
        with self._lock:
            return [copy.deepcopy(batch) for batch in self._batches.values()]

    def received(self) -> list[dict[str, Any]]:
        """Every record processed so far, accepted or rejected, in arrival order."""
        with self._lock:
            return copy.deepcopy(self._received)

    def receive_upload(self, ref: str, body: bytes) -> str:
        """Take the uploaded file of a batch; returns the batch's status afterwards.

        A repeat of the same file is accepted and changes nothing (as a retried PUT to
        storage would); a different file raises AlreadyUploaded.
        """
        md5 = hashlib.md5(body).hexdigest()
        with self._lock:
            batch = self._batches[ref]
            if batch.status != UPLOADING:
                if batch.uploaded_md5 != md5:
                    raise AlreadyUploaded(ref)
                return batch.status
            batch.uploaded_md5 = md5
            mismatch = (len(body), md5) != (batch.size, batch.checksum)
            if self.faults.take_corrupted() or mismatch:
                self._set_status(batch, CORRUPTED)
                return CORRUPTED
            self._set_status(batch, FILE_UPLOADED)
        with self._idle:
            self._pending += 1
        self._queue.put((ref, body))
        return FILE_UPLOADED

    @contextmanager
    def hold_processing(self) -> Iterator[None]:
        """Keep uploaded batches in `file_uploaded` until the block ends."""
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every uploaded batch reached a final status; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stopping.is_set():
                return
            while not self._released.wait(timeout=0.05):
                if self._stopping.is_set():
                    return
            ref, body = item
            try:
                self._process(ref, body)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _process(self, ref: str, body: bytes) -> None:
        started = time.monotonic()
        with self._lock:
            self._set_status(self._batches[ref], PROCESSING)
        delay = self.processing_seconds + self.faults.take_processing_delay()
        if self._stopping.wait(timeout=delay):
            return
        lines = unpack(body)
        file_error = self.faults.take_file_error()
        received = (
            [] if lines is None or file_error
            else process_lines(lines, batch_ref=ref, faults=self.faults, orders=self.orders)
        )
        failed = sum(1 for entry in received if not 200 <= entry["code"] < 300)
        stats = {
            "durationMs": int((time.monotonic() - started) * 1000),
            "totalRecords": len(received),
            "successfulRecords": len(received) - failed,
            "failedRecords": failed,
        }
        with self._lock:
            batch = self._batches[ref]
            self._received.extend(received)
            failing = lines is None or bool(failed) or file_error
            numeric_codes = failing and self.faults.take_numeric_codes()
            batch.log = error_log(received, numeric_codes=numeric_codes, file_error=file_error)
            batch.stats = stats
            self._set_status(batch, ERROR if failing else SUCCESS)

    def _set_status(self, batch: Batch, status: str) -> None:
        batch.status = status
        batch.modified_at = _utc(self.clock())


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)
