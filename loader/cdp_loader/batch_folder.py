"""The batch folder: the one module that knows its files and writes them.

A folder holds one export and, once shipped, what happened to it:

    batch-NNNNN.json.gz     the batch files, in upload order (0600)
    batch-NNNNN.index.tsv   per line: ref, order_id, reference_id, mode, ordered_at, record_hash
    manifest.json           written last by the export: every file with its records, size, MD5
                            and its index's MD5
    ledger.json             what the shipper did with each file (see `Ledger`)
    rejects.ndjson          the records CDP rejected, named by referenceId and order_id
    .lock                   held (an OS file lock) by the one process that exports or ships

Every claim of the ledger is about bytes: an entry keeps the MD5 and size of
the file it shipped and of its index, and a finished entry counts only while
the manifest still names those bytes (`Ledger.finished`). Every file is
replaced durably (write a temp file, fsync, rename, fsync the folder), so a
crash or a full disk leaves the old content or the new, never half.

An export never mixes with an earlier one: a folder that holds a ledger is
refused, unless the earlier export is first archived whole (with its ledger
and rejects) into a subfolder `shipped-<UTC time>/`, which stays a batch folder
of its own that `status` and `ship --record-state` can still read.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp_loader.errors import LoaderError
from cdp_loader.files import (
    FILE_MODE,
    TEMP_SUFFIX,
    fsync_folder,
    md5_of_file,
    write_durably,
)

MANIFEST_NAME = "manifest.json"
LEDGER_NAME = "ledger.json"
REJECTS_NAME = "rejects.ndjson"
LOCK_NAME = ".lock"
ARCHIVE_PREFIX = "shipped-"
BATCH_PREFIX = "batch-"
BATCH_SUFFIX = ".json.gz"
INDEX_SUFFIX = ".index.tsv"
INDEX_HEADER = ("ref", "order_id", "reference_id", "mode", "ordered_at", "record_hash")
# The index is TSV with a header; a field holding a tab, a newline or `"` is quoted
# with `"`, doubled inside (Python's csv). Readers that load many at once (the
# shipped-state recorder, with DuckDB) take these.
INDEX_DELIMITER = "\t"
INDEX_QUOTE = '"'
# The keys of a rejects.ndjson line that name a record: file, its batch, the record's ref.
REJECT_KEYS = ("file", "batchRef", "ref", "code")
DIR_MODE = 0o700

MANIFEST_FORMAT = 2  # 2 adds each index's MD5; format 1 folders are still read
LEDGER_FORMAT = 2  # 2 adds each index's MD5 to an entry; format 1 ledgers are still read
STATES = ("pending", "allocated", "uploading", "uploaded", "success", "error")
TERMINAL_STATES = frozenset({"success", "error"})
_LOCK_POLL_SECONDS = 0.2


def utc_now() -> str:
    """Timestamps of the folder's files: ISO 8601 UTC with milliseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def batch_file_name(number: int) -> str:
    return f"{BATCH_PREFIX}{number:05d}{BATCH_SUFFIX}"


def index_file_name(number: int) -> str:
    return f"{BATCH_PREFIX}{number:05d}{INDEX_SUFFIX}"


@dataclass(frozen=True)
class BatchFileInfo:
    """What the manifest says about one batch file."""

    file: str
    index: str
    records: int
    bytes: int
    md5: str
    index_md5: str | None  # None in a format-1 manifest
    first_reference_id: str
    last_reference_id: str
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class Manifest:
    """The files of one export, in upload order."""

    max_bytes: int
    files: tuple[BatchFileInfo, ...]

    @property
    def records(self) -> int:
        return sum(info.records for info in self.files)

    @property
    def bytes(self) -> int:
        return sum(info.bytes for info in self.files)

    def to_json(self) -> str:
        document = {"format": MANIFEST_FORMAT, "max_bytes": self.max_bytes,
                    "files": [asdict(info) for info in self.files],
                    "records": self.records, "bytes": self.bytes}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class IndexRow:
    """One line of a batch file, as its index names it."""

    ref: str
    order_id: int | str | None
    reference_id: str
    mode: str


def _order_id(text: str | None) -> int | str | None:
    """The warehouse's order_id: an integer when it reads as one, as the mart has it."""
    if not text:
        return None
    return int(text) if text.isdigit() else text


# The folders whose lock this process holds, with how often it was taken.
_HELD: dict[Path, int] = {}
_HELD_LOCK = threading.Lock()


class FolderLocked(LoaderError):
    """Another process exports or ships this folder."""


class BatchFolder:
    """One batch folder; every read and write of its files goes through here."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.manifest_path = self.path / MANIFEST_NAME
        self.ledger_path = self.path / LEDGER_NAME
        self.rejects_path = self.path / REJECTS_NAME
        self.lock_path = self.path / LOCK_NAME
        self._rejects_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BatchFolder({str(self.path)!r})"

    # --- the lock ---------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self, purpose: str, *, wait: bool = False) -> Iterator[None]:
        """Hold the folder's lock: one exporter or shipper at a time.

        The lock is an OS file lock, so it goes with the process that holds it,
        however it ends. Without `wait` a held lock is a FolderLocked naming its
        holder; with it, this waits (a signal still interrupts the wait). Taken
        again by the process that holds it (a ship inside a run), it is simply
        held on.
        """
        self.path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        key = self.path.resolve()
        with _HELD_LOCK:
            nested = key in _HELD
            if nested:
                _HELD[key] += 1
        if nested:
            try:
                yield
            finally:
                with _HELD_LOCK:
                    _HELD[key] -= 1
            return
        try:
            handle = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise LoaderError(f"cannot create {self.lock_path}: "
                              f"{exc.strerror or type(exc).__name__}") from None
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                        raise
                if not wait:
                    raise FolderLocked(f"{self.path} is in use by {self._holder(handle)}; "
                                       "run again when it ends, or pass --wait")
                time.sleep(_LOCK_POLL_SECONDS)
            holder = f"pid {os.getpid()} ({purpose} since {utc_now()})\n"
            # Only words for whoever finds the lock taken: a full disk must not stop the ship.
            with contextlib.suppress(OSError):
                os.ftruncate(handle, 0)
                os.pwrite(handle, holder.encode("ascii"), 0)
            with _HELD_LOCK:
                _HELD[key] = 1
            try:
                yield
            finally:
                with _HELD_LOCK:
                    del _HELD[key]
                with contextlib.suppress(OSError):
                    os.ftruncate(handle, 0)  # the holder's line goes with the hold
        finally:
            os.close(handle)  # closing the descriptor releases the lock

    @staticmethod
    def _holder(handle: int) -> str:
        text = os.pread(handle, 200, 0).decode("ascii", errors="replace").strip()
        return text or "another process"

    # --- the export -------------------------------------------------------------------

    def has_ledger(self) -> bool:
        return self.ledger_path.exists()

    def prepare_export(self, *, archive_previous: bool) -> Path | None:
        """Make the folder ready for a new export; returns where an earlier one was archived.

        A folder whose files were shipped (it has a ledger) is refused unless
        `archive_previous`, and then too while its ship has not finished: the
        files not yet final would be forgotten. The files of an export never
        shipped are removed.
        """
        self.path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        archived = None
        if self.has_ledger():
            if not archive_previous:
                raise LoaderError(
                    f"{self.path} holds the ledger of an earlier ship; export into a new "
                    "folder, or pass --archive-previous to move that export and its ledger "
                    f"to {self.path}/{ARCHIVE_PREFIX}<time>/ first")
            unfinished = self._files_not_final()
            if unfinished:
                raise LoaderError(
                    f"the earlier ship of {self.path} has not finished ({unfinished} files "
                    f"not final); run `cdp-loader ship {self.path}` to finish it, or export "
                    "into a new folder")
            archived = self._archive()
        for path in self._export_files():
            path.unlink()
        fsync_folder(self.path)
        return archived

    def _files_not_final(self) -> int:
        if not self.manifest_path.exists():
            return 0
        ledger = self.ledger()
        return sum(not ledger.finished(info) for info in self.manifest().files)

    def _export_files(self) -> list[Path]:
        names = (MANIFEST_NAME, MANIFEST_NAME + TEMP_SUFFIX)
        return [path for path in self.path.iterdir() if path.is_file() and (
            path.name in names or (path.name.startswith(BATCH_PREFIX) and any(
                path.name.endswith(suffix + temp) for suffix in (BATCH_SUFFIX, INDEX_SUFFIX)
                for temp in ("", TEMP_SUFFIX))))]

    def _archive(self) -> Path:
        target = self.path / f"{ARCHIVE_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        target.mkdir(mode=DIR_MODE)
        moved = [*self._export_files(), self.ledger_path, self.rejects_path]
        # The ledger goes last: until it has moved, this folder still refuses a new export.
        for path in sorted(moved, key=lambda p: p == self.ledger_path):
            if path.exists():
                os.replace(path, target / path.name)
        fsync_folder(target)
        fsync_folder(self.path)
        return target

    def write_manifest(self, manifest: Manifest) -> None:
        """Written last by an export: until it exists the folder cannot be shipped."""
        write_durably(self.manifest_path, manifest.to_json().encode("utf-8"))

    def discard_export(self) -> None:
        """Remove what a failed export wrote, so no half export is left to ship."""
        for path in self._export_files():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # --- reading the export -----------------------------------------------------------

    def manifest(self) -> Manifest:
        """The manifest's files, checked to name only files of this folder."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LoaderError(f"{self.path} has no {MANIFEST_NAME}; run `cdp-loader export` "
                              "first") from None
        except (OSError, ValueError):
            raise LoaderError(f"{self.manifest_path} is unreadable") from None
        if not isinstance(data, dict) or data.get("format") not in (1, MANIFEST_FORMAT):
            raise LoaderError(f"{self.manifest_path} has an unknown format")
        try:
            files = tuple(BatchFileInfo(
                file=item["file"], index=item["index"], records=int(item["records"]),
                bytes=int(item["bytes"]), md5=str(item["md5"]).lower(),
                index_md5=item.get("index_md5"),
                first_reference_id=str(item.get("first_reference_id", "")),
                last_reference_id=str(item.get("last_reference_id", "")),
                first_seq=int(item.get("first_seq", 0)), last_seq=int(item.get("last_seq", 0)),
            ) for item in data["files"])
            max_bytes = int(data.get("max_bytes", 0))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise LoaderError(f"{self.manifest_path} lacks a required field") from None
        for info in files:
            for name in (info.file, info.index):
                if not isinstance(name, str) or Path(name).name != name \
                        or name in {"", ".", ".."}:
                    raise LoaderError(f"{self.manifest_path} names a file outside the folder")
        return Manifest(max_bytes=max_bytes, files=files)

    def batch_files(self) -> list[Path]:
        """The batch files on disk, in upload (name) order."""
        return sorted(self.path.glob(f"{BATCH_PREFIX}*{BATCH_SUFFIX}"))

    def read_verified(self, info: BatchFileInfo) -> bytes:
        """The bytes of a batch file, refused unless they are the ones the manifest names."""
        try:
            body = (self.path / info.file).read_bytes()
        except FileNotFoundError:
            raise LoaderError(f"{info.file} is listed in {MANIFEST_NAME} but missing") from None
        if len(body) != info.bytes or hashlib.md5(body).hexdigest() != info.md5:
            raise LoaderError(f"{info.file} changed since export (size or MD5 differs from "
                              f"{MANIFEST_NAME}); export again to a new folder")
        return body

    def index_md5(self, info: BatchFileInfo) -> str:
        """The MD5 of a file's index now, refused when it is not the exported one."""
        try:
            checksum, _size = md5_of_file(self.path / info.index)
        except FileNotFoundError:
            raise LoaderError(f"index {info.index} of {self.path} is missing") from None
        if info.index_md5 is not None and checksum != info.index_md5:
            raise LoaderError(f"index {info.index} changed since export (MD5 differs from "
                              f"{MANIFEST_NAME}); export again to a new folder")
        return checksum

    def read_index(self, info: BatchFileInfo) -> dict[str, IndexRow]:
        """ref -> IndexRow of one batch file."""
        path = self.path / info.index
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = csv.DictReader(handle, delimiter=INDEX_DELIMITER, quotechar=INDEX_QUOTE)
                return {row["ref"]: IndexRow(row["ref"], _order_id(row["order_id"]),
                                             row["reference_id"], row["mode"]) for row in rows}
        except FileNotFoundError:
            raise LoaderError(f"index {info.index} is missing") from None
        except (KeyError, TypeError):
            raise LoaderError(f"index {info.index} lacks a column of ref, order_id, "
                              "reference_id, mode") from None

    def index_path(self, info: BatchFileInfo) -> Path:
        return self.path / info.index

    def has_deletes(self, info: BatchFileInfo) -> bool:
        """True when a batch file holds at least one delete record."""
        return any(row.mode == "delete" for row in self.read_index(info).values())

    # --- the ledger and the rejects ---------------------------------------------------

    def ledger(self) -> Ledger:
        """The folder's ledger (empty when nothing was shipped yet)."""
        return Ledger.load(self)

    def read_rejects(self) -> list[dict[str, Any]]:
        """Every line of rejects.ndjson, in file order then line order."""
        if not self.rejects_path.exists():
            return []
        try:
            lines = [json.loads(line) for line in
                     self.rejects_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except ValueError:
            raise LoaderError(f"{self.rejects_path} is unreadable") from None
        if not all(isinstance(line, dict) for line in lines):
            raise LoaderError(f"{self.rejects_path} has a line that is not a JSON object")
        return lines

    def write_rejects(self, file: str, rejects: list[dict[str, Any]]) -> None:
        """Replace one file's lines of rejects.ndjson, so a rerun never duplicates them."""
        with self._rejects_lock:
            kept = [line for line in self.read_rejects() if line.get("file") != file]
            if not rejects and not self.rejects_path.exists():
                return
            text = "".join(json.dumps(line, ensure_ascii=False) + "\n"
                           for line in [*kept, *rejects])
            try:
                write_durably(self.rejects_path, text.encode("utf-8"))
            except OSError as exc:
                raise LoaderError(f"cannot write {self.rejects_path}: "
                                  f"{exc.strerror or type(exc).__name__}") from None


def new_entry(info: BatchFileInfo, index_md5: str) -> dict[str, Any]:
    """The ledger entry of a file nothing has been done with yet."""
    now = utc_now()
    return {
        "file": info.file, "records": info.records, "checksum": info.md5, "size": info.bytes,
        "index_md5": index_md5, "state": "pending", "batchRef": None, "location_expiry": None,
        "history": [], "created_at": now, "updated_at": now, "allocated_at": None,
        "uploaded_at": None, "finished_at": None, "status": None, "rejected": 0,
        "rejected_by_code": {}, "deletes_already_absent": 0, "log_missing": False,
    }


def entry_matches(entry: dict[str, Any] | None, info: BatchFileInfo) -> bool:
    """Whether a ledger entry is about the bytes the manifest names now."""
    if entry is None:
        return False
    same_index = (entry.get("index_md5") is None or info.index_md5 is None
                  or entry["index_md5"] == info.index_md5)
    return (entry.get("checksum") == info.md5 and entry.get("size") == info.bytes
            and same_index)


class Ledger:
    """The shipping ledger `DIR/ledger.json`, written before each step the shipper takes.

    After a crash at any point it says what may have reached the server:

        pending    -> no upload started for the current batchRef (a batchRef may be
                      chosen; its allocate call may or may not have reached CDP)
        allocated  -> CDP gave an upload URL for batchRef; no byte sent yet
        uploading  -> the upload PUT started; its outcome is unknown
        uploaded   -> the upload PUT returned 200
        success | error  -> terminal: these bytes are never sent again

    A batchRef that can no longer be used (corrupted, expired, refused upload,
    abandoned after a crash before its upload) moves to `history` with its
    outcome, and the file goes back to `pending` with a new batchRef. An entry
    whose bytes the manifest no longer names is kept under `superseded` and the
    file starts again. The ledger never holds a secret: no credentials, no
    presigned URL (only the upload URL's expiry time), no error log URL.
    """

    def __init__(self, folder: BatchFolder, data: dict[str, Any]) -> None:
        self.folder = folder
        self.path = folder.ledger_path
        self._data = data
        self._lock = threading.RLock()

    @classmethod
    def load(cls, folder: BatchFolder) -> Ledger:
        path = folder.ledger_path
        if not path.exists():
            return cls(folder, {"format": LEDGER_FORMAT, "updated_at": None, "files": {}})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise LoaderError(f"{path} is unreadable; move it away only if nothing was "
                              "shipped from this folder") from None
        if not _is_ledger(data):
            raise LoaderError(f"{path} is not a format-{LEDGER_FORMAT} ledger (edited by "
                              "hand?); move it away only if nothing was shipped from this "
                              "folder")
        data["format"] = LEDGER_FORMAT
        return cls(folder, data)

    def files(self) -> dict[str, dict[str, Any]]:
        """A copy of every entry, by file name."""
        with self._lock:
            return json.loads(json.dumps(self._data["files"]))

    def entry(self, file: str) -> dict[str, Any] | None:
        """A copy of one file's entry (None when the file was never seen)."""
        with self._lock:
            found = self._data["files"].get(file)
            return None if found is None else json.loads(json.dumps(found))

    def finished(self, info: BatchFileInfo) -> bool:
        """Whether these bytes reached a final status: a finished entry about other bytes
        does not count."""
        entry = self.entry(info.file)
        return (entry is not None and entry["state"] in TERMINAL_STATES
                and entry_matches(entry, info))

    def begin(self, info: BatchFileInfo, index_md5: str) -> None:
        """Make sure the file has an entry about these bytes; supersede one about others."""
        with self._lock:
            entry = self._data["files"].get(info.file)
            if entry is not None and entry_matches(entry, info):
                if entry.get("index_md5") is None:
                    entry["index_md5"] = index_md5
                    self._save()
                return
            fresh = new_entry(info, index_md5)
            if entry is not None:
                fresh["superseded"] = [*entry.pop("superseded", []), entry]
            self._data["files"][info.file] = fresh
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
        try:
            write_durably(self.path, text.encode("utf-8"))
        except OSError as exc:
            # The step it was to record is not taken: the ledger on disk is still whole.
            raise LoaderError(f"cannot write {self.path}: "
                              f"{exc.strerror or type(exc).__name__}") from None


def _is_ledger(data: Any) -> bool:
    """The shape every reader of a ledger relies on."""
    if not isinstance(data, dict) or data.get("format") not in (1, LEDGER_FORMAT) \
            or not isinstance(data.get("files"), dict):
        return False
    return all(isinstance(entry, dict) and entry.get("state") in STATES
               and isinstance(entry.get("history", []), list)
               for entry in data["files"].values())
