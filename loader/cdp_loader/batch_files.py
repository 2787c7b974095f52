"""Writes batch records into gzip files of at most `max_bytes` compressed bytes each.

Each file is one gzip member (mtime 0, no file name) of NDJSON lines in `seq`
order, all of one mode: deletes and inserts never share a file. A file
takes lines until the next line would take it over the limit;
deciding that exactly on every line would mean finishing a copy of the
compressor per line, so the writer keeps a cheap upper bound of the finished
size and measures exactly only when that bound nears the limit.

Beside each `batch-NNNNN.json.gz` is `batch-NNNNN.index.tsv` (ref, order_id,
reference_id, mode, ordered_at, record_hash per line, no personal data) and, once every file is
complete, `manifest.json`. Files holding records are created with mode 0600.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from cdp_loader.errors import LoaderError
from cdp_loader.records import BatchRecord

MAX_BATCH_BYTES = 50_000_000  # spec §1.1: 50 MB gzipped, read as decimal to satisfy MB and MiB
MIN_BATCH_BYTES = 1_000  # below this not even one ordinary order fits
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
BATCH_PREFIX = "batch-"
BATCH_SUFFIX = ".json.gz"
INDEX_SUFFIX = ".index.tsv"
INDEX_HEADER = (
    "ref", "order_id", "reference_id", "mode", "ordered_at", "record_hash",
)
TEMP_SUFFIX = ".tmp"
FILE_MODE = 0o600
DIR_MODE = 0o700

# zlib level 6 measured best for this data: isal is faster but cannot copy its
# state, which the exact fill rule needs; zlib 9 is much slower for ~0.3% less.
COMPRESSION_LEVEL = 6
# The gzip header of RFC 1952: deflate, no flags (so no FNAME), mtime 0, OS unknown.
_XFL_BY_LEVEL = {1: 4, 9: 2}
_OS_UNKNOWN = 255
_GZIP_TRAILER_BYTES = 8

# Upper bound of how much finishing the stream can add beyond a measured size:
# re-encoding one pending deflate block (memLevel 8: at most 16,384 symbols of
# at most 48 bits = 98,304 bytes) plus block headers, rounded up generously.
_PENDING_BLOCK_SLACK = 128 * 1024
# New input never compresses to more than this factor of itself (stored blocks
# cost ~1.0008, fixed Huffman at most ~1.3); 2 leaves room.
_NEW_INPUT_FACTOR = 2
_FEED_BYTES = 256 * 1024


@dataclass(frozen=True)
class BatchFileInfo:
    """What the manifest says about one batch file."""

    file: str
    index: str
    records: int
    bytes: int
    md5: str
    first_reference_id: str
    last_reference_id: str
    first_seq: int
    last_seq: int


@dataclass
class ExportResult:
    """The files of one export, in upload order, and their totals."""

    out_dir: Path
    max_bytes: int
    files: list[BatchFileInfo] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(info.records for info in self.files)

    @property
    def bytes(self) -> int:
        return sum(info.bytes for info in self.files)

    def manifest(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "max_bytes": self.max_bytes,
            "files": [asdict(info) for info in self.files],
            "records": self.records,
            "bytes": self.bytes,
        }


def batch_file_name(number: int) -> str:
    return f"{BATCH_PREFIX}{number:05d}{BATCH_SUFFIX}"


def index_file_name(number: int) -> str:
    return f"{BATCH_PREFIX}{number:05d}{INDEX_SUFFIX}"


def gzip_header(level: int = COMPRESSION_LEVEL) -> bytes:
    """RFC 1952 member header: no name, no comment, mtime 0, so equal input gives equal bytes."""
    return struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, 0, 0, _XFL_BY_LEVEL.get(level, 0), _OS_UNKNOWN)


def open_private(path: Path) -> IO[bytes]:
    """Create `path` exclusively with mode 0600 (it will hold personal data)."""
    return os.fdopen(_create_private(path), "wb")


def open_private_text(path: Path) -> IO[str]:
    """Like `open_private`, as UTF-8 text without newline translation."""
    return os.fdopen(_create_private(path), "w", encoding="utf-8", newline="")


def _create_private(path: Path) -> int:
    # O_EXCL: never write into a file someone else created (or linked) there.
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)


def write_private_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a 0600 temp file and a rename, so readers never see half."""
    temp = path.with_name(path.name + TEMP_SUFFIX)
    temp.unlink(missing_ok=True)
    with open_private(temp) as handle:
        handle.write(data)
    os.replace(temp, path)


class GzipMemberWriter:
    """One gzip member streamed to a file, with its exact size measurable at any line.

    `size_if_finished_with(data)` is exact: it finishes a copy of the compressor.
    `size_bound_with(n)` is a cheap upper bound of the same for `n` more bytes.
    Input is handed to zlib in blocks of `_FEED_BYTES` to save per-line calls;
    zlib's output does not depend on how its input is cut into calls.
    """

    def __init__(self, handle: IO[bytes], level: int = COMPRESSION_LEVEL) -> None:
        self._handle = handle
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._crc = 0
        self._input_bytes = 0
        self._written = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._emit(gzip_header(level))
        self._measured_size = self._written + _GZIP_TRAILER_BYTES
        self._input_since_measure = 0

    @property
    def input_bytes(self) -> int:
        return self._input_bytes

    def _emit(self, data: bytes) -> None:
        if data:
            self._handle.write(data)
            self._md5.update(data)
            self._written += len(data)

    def _feed_pending(self) -> None:
        if self._pending:
            block = b"".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            self._crc = zlib.crc32(block, self._crc)
            self._emit(self._compressor.compress(block))

    def size_bound_with(self, extra: int) -> int:
        """An upper bound of the finished size if `extra` more input bytes were added."""
        new_input = self._input_since_measure + extra
        return self._measured_size + _NEW_INPUT_FACTOR * new_input + _PENDING_BLOCK_SLACK

    def size_if_finished_with(self, data: bytes) -> int:
        """The exact finished size if `data` were the last input; also tightens the bound."""
        self._feed_pending()
        probe = self._compressor.copy()
        tail = len(probe.compress(data)) + len(probe.flush())
        size = self._written + tail + _GZIP_TRAILER_BYTES
        self._measured_size = size
        # The measurement already counts `data`, which the caller adds next if it fits.
        self._input_since_measure = -len(data)
        return size

    def add(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_bytes += len(data)
        self._input_bytes += len(data)
        self._input_since_measure += len(data)
        if self._pending_bytes >= _FEED_BYTES:
            self._feed_pending()

    def finish(self) -> tuple[int, str]:
        """Flush, write the trailer; return (compressed bytes, hex MD5 of them)."""
        self._feed_pending()
        self._emit(self._compressor.flush())
        self._emit(struct.pack("<II", self._crc, self._input_bytes & 0xFFFFFFFF))
        return self._written, self._md5.hexdigest()


class _IndexWriter:
    """The sidecar that maps each line of a batch file back to its order."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        # Quoting keeps a tab or newline inside a reference from breaking the columns.
        self._writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        self._writer.writerow(INDEX_HEADER)

    def add(self, record: BatchRecord) -> None:
        order_id = "" if record.order_id is None else record.order_id
        self._writer.writerow((record.ref, order_id, record.reference_id, record.mode,
                               record.ordered_at, record.record_hash))

    def close(self) -> None:
        self._handle.close()


class _OpenBatchFile:
    """A batch file being filled: its gzip stream, its index, and what the manifest needs."""

    def __init__(self, out_dir: Path, number: int, max_bytes: int, mode: str) -> None:
        self.number = number
        self.mode = mode
        self.max_bytes = max_bytes
        self.path = out_dir / batch_file_name(number)
        self.index_path = out_dir / index_file_name(number)
        self._temp = self.path.with_name(self.path.name + TEMP_SUFFIX)
        self._index_temp = self.index_path.with_name(self.index_path.name + TEMP_SUFFIX)
        self._handle = open_private(self._temp)
        self._index_handle = open_private_text(self._index_temp)
        self._gzip = GzipMemberWriter(self._handle)
        self._index = _IndexWriter(self._index_handle)
        self.records = 0
        self._first: BatchRecord | None = None
        self._last: BatchRecord | None = None

    def fits(self, line: bytes) -> bool:
        """Whether the file, finished right after `line`, stays within the limit."""
        if self._gzip.size_bound_with(len(line)) <= self.max_bytes:
            return True
        return self._gzip.size_if_finished_with(line) <= self.max_bytes

    def add(self, record: BatchRecord, line: bytes) -> None:
        self._gzip.add(line)
        self._index.add(record)
        self.records += 1
        if self._first is None:
            self._first = record
        self._last = record

    def close(self) -> BatchFileInfo:
        size, md5 = self._gzip.finish()
        self._index.close()
        self._handle.close()
        if size > self.max_bytes:
            # The bound above is an argued, not a proven, one: never let a file over the limit out.
            raise LoaderError(
                f"internal error: {self.path.name} came out at {size} bytes, over {self.max_bytes}"
            )
        os.replace(self._index_temp, self.index_path)
        os.replace(self._temp, self.path)
        assert self._first is not None and self._last is not None
        return BatchFileInfo(
            file=self.path.name,
            index=self.index_path.name,
            records=self.records,
            bytes=size,
            md5=md5,
            first_reference_id=self._first.reference_id,
            last_reference_id=self._last.reference_id,
            first_seq=self._first.seq,
            last_seq=self._last.seq,
        )

    def abandon(self) -> None:
        for handle in (self._handle, self._index_handle):
            handle.close()
        self._temp.unlink(missing_ok=True)
        self._index_temp.unlink(missing_ok=True)


def prepare_out_dir(out_dir: Path) -> None:
    """Create the folder (0700) and remove the files of a previous export in it."""
    out_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for path in out_dir.iterdir():
        name = path.name
        is_batch = name.startswith(BATCH_PREFIX) and (
            name.endswith(BATCH_SUFFIX)
            or name.endswith(INDEX_SUFFIX)
            or name.endswith(BATCH_SUFFIX + TEMP_SUFFIX)
            or name.endswith(INDEX_SUFFIX + TEMP_SUFFIX)
        )
        is_manifest = name in (MANIFEST_NAME, MANIFEST_NAME + TEMP_SUFFIX)
        if (is_batch or is_manifest) and path.is_file():
            path.unlink()


def encode_line(record: BatchRecord) -> bytes:
    return record.record.encode("utf-8") + b"\n"


def write_batch_files(
    chunks: Iterable[Sequence[BatchRecord]],
    out_dir: Path,
    max_bytes: int = MAX_BATCH_BYTES,
    on_records: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the records (in the order given) into batch files, their indexes and the manifest.

    `on_records(n)` is called after each chunk with how many records it held.
    """
    if not MIN_BATCH_BYTES <= max_bytes <= MAX_BATCH_BYTES:
        raise LoaderError(f"max bytes must be between {MIN_BATCH_BYTES} and {MAX_BATCH_BYTES}")
    try:
        return _write_batch_files(chunks, out_dir, max_bytes, on_records)
    except OSError as exc:
        raise LoaderError(f"cannot write batch files in {out_dir}: {exc.strerror}") from None


def _write_batch_files(
    chunks: Iterable[Sequence[BatchRecord]],
    out_dir: Path,
    max_bytes: int,
    on_records: Callable[[int], None] | None,
) -> ExportResult:
    prepare_out_dir(out_dir)
    result = ExportResult(out_dir=out_dir, max_bytes=max_bytes)
    current: _OpenBatchFile | None = None
    try:
        for chunk in chunks:
            for record in chunk:
                line = encode_line(record)
                # Deletes and inserts never share a batch: CDP gives no order between the
                # records of one file, and a delete must land before its re-insert.
                if current is not None and (
                    current.mode != record.mode or not current.fits(line)
                ):
                    result.files.append(current.close())
                    current = None
                if current is None:
                    current = _OpenBatchFile(out_dir, len(result.files) + 1, max_bytes,
                                             record.mode)
                    if not current.fits(line):
                        raise LoaderError(
                            f"record of order {record.reference_id} (order_id {record.order_id})"
                            f" alone does not fit in {max_bytes} compressed bytes"
                        )
                current.add(record, line)
            if on_records is not None:
                on_records(len(chunk))
        if current is not None:
            result.files.append(current.close())
            current = None
    finally:
        if current is not None:
            current.abandon()
    manifest = json.dumps(result.manifest(), indent=2, ensure_ascii=False) + "\n"
    write_private_atomically(out_dir / MANIFEST_NAME, manifest.encode("utf-8"))
    return result
