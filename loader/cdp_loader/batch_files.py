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

The folder's names, its manifest and its durable writes belong to
`batch_folder.BatchFolder`: this module only fills the files. An export holds
the folder's lock, refuses a folder that was shipped (unless told to archive
that export first), and writes the manifest last; if it fails half-way (a full
disk), what it wrote is removed, so no half export can be shipped.
"""

from __future__ import annotations

import csv
import hashlib
import os
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from isal import isal_zlib

from cdp_loader.batch_folder import (
    INDEX_DELIMITER,
    INDEX_HEADER,
    INDEX_QUOTE,
    BatchFileInfo,
    BatchFolder,
    Manifest,
    batch_file_name,
    index_file_name,
)
from cdp_loader.errors import LoaderError
from cdp_loader.files import TEMP_SUFFIX, create_private
from cdp_loader.records import BatchRecord

MAX_BATCH_BYTES = 50_000_000  # spec §1.1: 50 MB gzipped, read as decimal to satisfy MB and MiB
MIN_BATCH_BYTES = 1_000  # below this not even one ordinary order fits

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
class ExportResult:
    """What one export wrote: its folder, its manifest, and where an earlier export went."""

    out_dir: Path
    manifest: Manifest
    archived: Path | None = None  # where an earlier, shipped export of the folder went

    @property
    def files(self) -> tuple[BatchFileInfo, ...]:
        return self.manifest.files

    @property
    def records(self) -> int:
        return self.manifest.records

    @property
    def bytes(self) -> int:
        return self.manifest.bytes


def gzip_header(level: int = COMPRESSION_LEVEL) -> bytes:
    """RFC 1952 member header: no name, no comment, mtime 0, so equal input gives equal bytes."""
    return struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, 0, 0, _XFL_BY_LEVEL.get(level, 0), _OS_UNKNOWN)


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
    """The sidecar that maps each line of a batch file back to its order, hashed as written."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._md5 = hashlib.md5(usedforsecurity=False)
        # Quoting keeps a tab or newline inside a reference from breaking the columns.
        self._writer = csv.writer(self, delimiter=INDEX_DELIMITER, quotechar=INDEX_QUOTE,
                                  lineterminator="\n")
        self._writer.writerow(INDEX_HEADER)

    def write(self, text: str) -> None:
        """The csv writer's sink: UTF-8 bytes to the file and to the MD5."""
        data = text.encode("utf-8")
        self._md5.update(data)
        self._handle.write(data)

    def add(self, records: Sequence[BatchRecord]) -> None:
        self._writer.writerows(
            (record.ref, "" if record.order_id is None else record.order_id,
             record.reference_id, record.mode, record.ordered_at, record.record_hash)
            for record in records
        )

    def md5(self) -> str:
        return self._md5.hexdigest()


def _close_durably(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


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
        self._temp.unlink(missing_ok=True)
        self._index_temp.unlink(missing_ok=True)
        self._handle = create_private(self._temp)
        self._index_handle = create_private(self._index_temp)
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
        _close_durably(self._index_handle)
        _close_durably(self._handle)
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
            index_md5=self._index.md5(),
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
    *,
    archive_previous: bool = False,
    wait: bool = False,
) -> ExportResult:
    """Write the records (in the order given) into batch files, their indexes and the manifest.

    Holds the folder's lock (waiting for it with `wait`). A folder that was
    shipped is refused unless `archive_previous`. `on_records(n)` is called
    after each chunk with how many records it held.
    """
    if not MIN_BATCH_BYTES <= max_bytes <= MAX_BATCH_BYTES:
        raise LoaderError(f"max bytes must be between {MIN_BATCH_BYTES} and {MAX_BATCH_BYTES}")
    folder = BatchFolder(out_dir)
    try:
        with folder.locked("export", wait=wait):
            archived = folder.prepare_export(archive_previous=archive_previous)
            try:
                manifest = _write_batch_files(chunks, folder, max_bytes, on_records)
            except BaseException:
                folder.discard_export()
                raise
    except OSError as exc:
        raise LoaderError(f"cannot write batch files in {out_dir}: "
                          f"{exc.strerror or type(exc).__name__}") from None
    return ExportResult(out_dir=folder.path, manifest=manifest, archived=archived)


class _BatchWriter:
    """Fills batch files in turn with pieces of one mode, opening the next when one is full."""

    def __init__(self, out_dir: Path, max_bytes: int) -> None:
        self.out_dir = out_dir
        self.max_bytes = max_bytes
        self.files: list[BatchFileInfo] = []
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
            self.current = _OpenBatchFile(self.out_dir, len(self.files) + 1, self.max_bytes,
                                          records[0].mode)
        placed = self.current.place(records)
        if placed < len(records):
            if self.current.records == 0:
                record = records[0]
                raise LoaderError(
                    f"record of order {record.reference_id} (order_id {record.order_id})"
                    f" alone does not fit in {self.max_bytes} compressed bytes"
                )
            self._close_current()
        return placed

    def _close_current(self) -> None:
        if self.current is not None:
            self.files.append(self.current.close())
            self.current = None

    def close(self) -> Manifest:
        self._drain()
        self._close_current()
        return Manifest(max_bytes=self.max_bytes, files=tuple(self.files))

    def abandon(self) -> None:
        if self.current is not None:
            self.current.abandon()


def _write_batch_files(
    chunks: Iterable[Sequence[BatchRecord]],
    folder: BatchFolder,
    max_bytes: int,
    on_records: Callable[[int], None] | None,
) -> Manifest:
    writer = _BatchWriter(folder.path, max_bytes)
    try:
        for chunk in chunks:
            writer.add(chunk)
            if on_records is not None:
                on_records(len(chunk))
        manifest = writer.close()
    finally:
        writer.abandon()
    folder.write_manifest(manifest)
    return manifest
