"""The shipping ledger `DIR/ledger.json`: what happened to each batch file, crash-safely.

The shipper writes the ledger *before* each step it takes, so after a crash at
any point the ledger says what may have reached the server:

    pending    -> no upload started for the current batchRef (a batchRef may be
                  chosen; its allocate call may or may not have reached CDP)
    allocated  -> CDP gave an upload URL for batchRef; no byte sent yet
    uploading  -> the upload PUT started; its outcome is unknown
    uploaded   -> the upload PUT returned 200
    success | error  -> terminal: the file is never sent again

A batchRef that can no longer be used (corrupted, expired, refused upload,
abandoned after a crash before its upload) is moved to `history` with its
outcome and the file goes back to `pending` with a new batchRef.

The ledger never holds a secret: no credentials, no presigned URL (only the
upload URL's expiry time), no error log URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp_loader.errors import LoaderError

LEDGER_NAME = "ledger.json"
LEDGER_FORMAT = 1
STATES = ("pending", "allocated", "uploading", "uploaded", "success", "error")
TERMINAL_STATES = frozenset({"success", "error"})


def utc_now() -> str:
    """Timestamps in the ledger: ISO 8601 UTC with milliseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_private_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (mode 0600) so a crash leaves the old or the new file, whole."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    # The rename itself must reach the disk, or a power cut can undo it.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def new_entry(file: str, records: int, checksum: str, size: int) -> dict[str, Any]:
    """The ledger entry of a file nothing has been done with yet."""
    now = utc_now()
    return {
        "file": file, "records": records, "checksum": checksum, "size": size,
        "state": "pending", "batchRef": None, "location_expiry": None, "history": [],
        "created_at": now, "updated_at": now, "allocated_at": None, "uploaded_at": None,
        "finished_at": None, "status": None, "rejected": 0, "rejected_by_code": {},
        "deletes_already_absent": 0, "log_missing": False,
    }


class Ledger:
    """The ledger of one batch folder; every change is written to disk before it returns."""

    def __init__(self, directory: Path, data: dict[str, Any]) -> None:
        self.directory = directory
        self.path = directory / LEDGER_NAME
        self._data = data
        self._lock = threading.RLock()

    @classmethod
    def load(cls, directory: Path) -> Ledger:
        """Read `DIR/ledger.json`, or start an empty ledger when there is none."""
        path = directory / LEDGER_NAME
        if not path.exists():
            return cls(directory, {"format": LEDGER_FORMAT, "updated_at": None, "files": {}})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise LoaderError(f"{path} is unreadable; move it away only if nothing was "
                              "shipped from this folder") from None
        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT \
                or not isinstance(data.get("files"), dict):
            raise LoaderError(f"{path} is not a format-{LEDGER_FORMAT} ledger")
        return cls(directory, data)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def files(self) -> dict[str, dict[str, Any]]:
        """A copy of every entry, by file name."""
        with self._lock:
            return json.loads(json.dumps(self._data["files"]))

    def entry(self, file: str) -> dict[str, Any] | None:
        """A copy of one file's entry (None when the file was never seen)."""
        with self._lock:
            found = self._data["files"].get(file)
            return None if found is None else json.loads(json.dumps(found))

    def add(self, entry: dict[str, Any]) -> None:
        """Record a new file (kept when it is already there)."""
        with self._lock:
            if entry["file"] not in self._data["files"]:
                self._data["files"][entry["file"]] = entry
                self._save()

    def update(self, file: str, **changes: Any) -> dict[str, Any]:
        """Apply `changes` to a file's entry and write the ledger; returns the new entry."""
        with self._lock:
            entry = self._data["files"][file]
            if "state" in changes and changes["state"] not in STATES:
                raise ValueError(f"unknown ledger state {changes['state']!r}")
            entry.update(changes)
            entry["updated_at"] = utc_now()
            self._save()
            return json.loads(json.dumps(entry))

    def start_batch(self, file: str, batch_ref: str) -> dict[str, Any]:
        """Choose a new batchRef for a file (written before the allocate call)."""
        with self._lock:
            return self.update(file, state="pending", batchRef=batch_ref, location_expiry=None,
                               allocated_at=None, uploaded_at=None)

    def retire_batch(self, file: str, outcome: str) -> dict[str, Any]:
        """Give up the current batchRef (keeping it in `history`) and go back to pending."""
        with self._lock:
            entry = self._data["files"][file]
            if entry.get("batchRef"):
                entry["history"].append({"batchRef": entry["batchRef"], "outcome": outcome,
                                         "allocated_at": entry.get("allocated_at"),
                                         "retired_at": utc_now()})
            return self.update(file, state="pending", batchRef=None, location_expiry=None,
                               allocated_at=None, uploaded_at=None)

    def _save(self) -> None:
        self._data["updated_at"] = utc_now()
        text = json.dumps(self._data, indent=1, sort_keys=True) + "\n"
        write_private_atomically(self.path, text.encode("utf-8"))
