"""Writes batch records into gzip files of at most `max_bytes` compressed bytes each.

Each file is one gzip member (mtime 0, no file name) of NDJSON lines in `seq`
order, all of one mode: deletes and inserts never share a file. A file
takes lines until the next line would take it over the limit.

The deflate stream of a member is a run of pieces: each piece is up to
`_PIECE_LINES` lines compressed on its own by ISA-L (about ten times zlib's
speed), primed with the last 32 KiB of input before it, and ends on a sync
flush, so its size is final the moment it is made; an empty final block
closes the stream. While a cheap upper bound says the next piece keeps the
file within the limit it is simply written; once it does not, the piece is
measured, and if it does not fit, a binary search finds a count of lines
that fits while one more would not: the file ends there. Pieces start at a
file's first line and every `_PIECE_LINES` after, so the bytes depend only on
the lines (and the ISA-L version), never on how they arrive in chunks.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from isal import isal_zlib

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

# ISA-L level 2 measured best on the real lines (bench/RESULTS.md): ~590 MB/s at
# a ratio of 5.3, against zlib 6's 65 MB/s at 6.9; level 3 halves the speed for 4%.
COMPRESSION_LEVEL = 2
# The gzip header of RFC 1952: deflate, no flags (so no FNAME), mtime 0, OS unknown.
_XFL_BY_LEVEL = {1: 4, 9: 2}
_OS_UNKNOWN = 255
_GZIP_TRAILER_BYTES = 8
# An empty final block with fixed Huffman codes: BFINAL 1, BTYPE 01, end-of-block.
_FINAL_BLOCK = b"\x03\x00"
_CLOSING_BYTES = len(_FINAL_BLOCK) + _GZIP_TRAILER_BYTES
_WINDOW_BYTES = 32 * 1024  # deflate's window: all a piece can refer back to
# About 1 MiB of ordinary orders: big enough for the ratio, small enough for the bound.
_PIECE_LINES = 512

# Upper bound of a piece's compressed size for `n` input bytes: deflate never
# needs more than stored blocks (5 bytes per 65,535) plus a sync flush, and
# the encoder keeps a block's Huffman coding within that; 2n + 1 KiB leaves room.
_BOUND_FACTOR = 2
_BOUND_SLACK = 1024


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
    """One gzip member streamed to a file as deflate pieces of exactly known size."""

    def __init__(self, handle: IO[bytes], level: int = COMPRESSION_LEVEL) -> None:
        self._handle = handle
        self._level = level
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._crc = 0
        self._input_bytes = 0
        self._written = 0
        self._window = b""
        self._emit(gzip_header(level))

    @property
    def input_bytes(self) -> int:
        return self._input_bytes

    def _emit(self, data: bytes) -> None:
        if data:
            self._handle.write(data)
            self._md5.update(data)
            self._written += len(data)

    def compress(self, block: bytes) -> bytes:
        """`block` as the next piece (nothing is written)."""
        options: dict[str, Any] = {"zdict": self._window} if self._window else {}
        compressor = isal_zlib.compressobj(
            self._level, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS, **options
        )
        return compressor.compress(block) + compressor.flush(isal_zlib.Z_SYNC_FLUSH)

    def size_bound_with(self, block_bytes: int) -> int:
        """An upper bound of the finished size if a piece of `block_bytes` input came next."""
        piece_bound = _BOUND_FACTOR * block_bytes + _BOUND_SLACK
        return self._written + piece_bound + _CLOSING_BYTES

    def size_with(self, piece: bytes) -> int:
        """The exact finished size if `piece` came next and last."""
        return self._written + len(piece) + _CLOSING_BYTES

    def append(self, block: bytes, piece: bytes | None = None) -> None:
        """Write `block` as the next piece (`piece`: its compression, when already made)."""
        if piece is None:
            piece = self.compress(block)
        self._crc = isal_zlib.crc32(block, self._crc)
        self._input_bytes += len(block)
        self._emit(piece)
        self._window = (self._window[-_WINDOW_BYTES:] + block[-_WINDOW_BYTES:])[-_WINDOW_BYTES:]

    def finish(self) -> tuple[int, str]:
        """Close the stream and write the trailer; return (compressed bytes, hex MD5 of them)."""
        self._emit(_FINAL_BLOCK)
        self._emit(struct.pack("<II", self._crc, self._input_bytes & 0xFFFFFFFF))
        return self._written, self._md5.hexdigest()


class _IndexWriter:
    """The sidecar that maps each line of a batch file back to its order."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        # Quoting keeps a tab or newline inside a reference from breaking the columns.
        self._writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        self._writer.writerow(INDEX_HEADER)

    def add(self, records: Sequence[BatchRecord]) -> None:
        self._writer.writerows(
            (record.ref, "" if record.order_id is None else record.order_id,
             record.reference_id, record.mode, record.ordered_at, record.record_hash)
            for record in records
        )

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

    def place(self, records: Sequence[BatchRecord]) -> int:
        """Add the longest run of leading records (one piece at most) that fits; return its length.

        Less than all of them means the file is full: the next record would not fit.
        """
        block = encode_lines(records)
        if self._gzip.size_bound_with(len(block)) <= self.max_bytes:
            self._append(records, block)
            return len(records)
        piece = self._gzip.compress(block)
        if self._gzip.size_with(piece) <= self.max_bytes:
            self._append(records, block, piece)
            return len(records)
        fitting, too_many = 0, len(records)  # the invariant: fitting fits, too_many does not
        while too_many - fitting > 1:
            middle = (fitting + too_many) // 2
            if self._gzip.size_with(self._gzip.compress(encode_lines(records[:middle]))) \
                    <= self.max_bytes:
                fitting = middle
            else:
                too_many = middle
        if fitting:
            self._append(records[:fitting], encode_lines(records[:fitting]))
        return fitting

    def _append(self, records: Sequence[BatchRecord], block: bytes,
                piece: bytes | None = None) -> None:
        self._gzip.append(block, piece)
        self._index.add(records)
        self.records += len(records)
        if self._first is None:
            self._first = records[0]
        self._last = records[-1]

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


def encode_lines(records: Sequence[BatchRecord]) -> bytes:
    """The lines of `records`, each with its newline, as one block."""
    return ("\n".join([record.record for record in records]) + "\n").encode("utf-8")


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


class _BatchWriter:
    """Fills batch files in turn with pieces of one mode, opening the next when one is full."""

    def __init__(self, out_dir: Path, max_bytes: int) -> None:
        self.result = ExportResult(out_dir=out_dir, max_bytes=max_bytes)
        self.current: _OpenBatchFile | None = None
        self._waiting: list[BatchRecord] = []

    def add(self, chunk: Sequence[BatchRecord]) -> None:
        """Take the records of a chunk; whole pieces are written, the rest waits."""
        for record in chunk:
            # Deletes and inserts never share a batch: CDP gives no order between the
            # records of one file, and a delete must land before its re-insert.
            if self._waiting and record.mode != self._waiting[-1].mode:
                self._drain()
                self._close_current()
            self._waiting.append(record)
            if len(self._waiting) >= 2 * _PIECE_LINES:
                self._place_whole_pieces()

    def _place_whole_pieces(self) -> None:
        start = 0
        while len(self._waiting) - start >= _PIECE_LINES:
            start += self._place(self._waiting[start:start + _PIECE_LINES])
        del self._waiting[:start]

    def _drain(self) -> None:
        start = 0
        while start < len(self._waiting):
            start += self._place(self._waiting[start:start + _PIECE_LINES])
        self._waiting.clear()

    def _place(self, records: Sequence[BatchRecord]) -> int:
        """Place leading records in the current file or a new one; how many were placed."""
        if self.current is None:
            self.current = _OpenBatchFile(self.result.out_dir, len(self.result.files) + 1,
                                          self.result.max_bytes, records[0].mode)
        placed = self.current.place(records)
        if placed < len(records):
            if self.current.records == 0:
                record = records[0]
                raise LoaderError(
                    f"record of order {record.reference_id} (order_id {record.order_id})"
                    f" alone does not fit in {self.result.max_bytes} compressed bytes"
                )
            self._close_current()
        return placed

    def _close_current(self) -> None:
        if self.current is not None:
            self.result.files.append(self.current.close())
            self.current = None

    def close(self) -> ExportResult:
        self._drain()
        self._close_current()
        return self.result

    def abandon(self) -> None:
        if self.current is not None:
            self.current.abandon()


def _write_batch_files(
    chunks: Iterable[Sequence[BatchRecord]],
    out_dir: Path,
    max_bytes: int,
    on_records: Callable[[int], None] | None,
) -> ExportResult:
    prepare_out_dir(out_dir)
    writer = _BatchWriter(out_dir, max_bytes)
    try:
        for chunk in chunks:
            writer.add(chunk)
            if on_records is not None:
                on_records(len(chunk))
        result = writer.close()
    finally:
        writer.abandon()
    manifest = json.dumps(result.manifest(), indent=2, ensure_ascii=False) + "\n"
    write_private_atomically(out_dir / MANIFEST_NAME, manifest.encode("utf-8"))
    return result
