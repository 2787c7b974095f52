"""Checks batch files against the CDP file format (spec §1) and the order models.

Files are streamed: one gzip block and one line at a time. Problems come out
as `Problem(file, line, reference_id, message)`; line 0 means the file as a
whole, and `-` stands for a line whose referenceId is unknown.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdp_loader.batch_files import MAX_BATCH_BYTES
from cdp_loader.record_checks import record_problems

GZIP_MAGIC = b"\x1f\x8b"
NO_REFERENCE = "-"
_READ_BYTES = 1 << 16
_INFLATE_BYTES = 1 << 20
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip container, checks CRC-32 and length


@dataclass(frozen=True)
class Problem:
    """One finding: where it is and what is wrong, without personal data."""

    file: str
    line: int
    reference_id: str
    message: str


@dataclass
class ValidationStats:
    """Totals of a validation run, filled in while problems are yielded."""

    files: int = 0
    records: int = 0
    problems: int = 0


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_line(text: str) -> Any:
    """Strict JSON: no duplicate keys, no NaN or Infinity."""
    return json.loads(
        text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
    )


def _gzip_lines(path: Path, problems: list[tuple[int, str]]) -> Iterator[bytes]:
    """Yield the raw lines (with their b"\n") of the single gzip member of `path`.

    File-level problems go into `problems` as (line, message); the caller
    reports them after the lines. Output is inflated at most `_INFLATE_BYTES`
    at a time, so a small file that inflates hugely cannot exhaust memory.
    """
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    pending = bytearray()
    with path.open("rb") as handle:
        block = handle.read(_READ_BYTES)
        if not block.startswith(GZIP_MAGIC):
            problems.append((0, "not a gzip file (no 1f 8b magic bytes)"))
            return
        while block and not decompressor.eof:
            try:
                data = decompressor.decompress(block, _INFLATE_BYTES)
            except zlib.error:
                problems.append((0, "gzip data is corrupt (bad deflate data or CRC)"))
                return
            pending += data
            if b"\n" in data:
                *lines, rest = pending.split(b"\n")
                pending = bytearray(rest)
                for line in lines:
                    yield bytes(line) + b"\n"
            block = decompressor.unconsumed_tail or handle.read(_READ_BYTES)
        if not decompressor.eof:
            problems.append((0, "gzip data is truncated"))
        else:
            trailing = decompressor.unused_data + handle.read(len(GZIP_MAGIC))
            if trailing.startswith(GZIP_MAGIC):
                problems.append((0, "more than one gzip member"))
            elif trailing:
                problems.append((0, "bytes after the end of the gzip member"))
    if pending:
        yield bytes(pending)


def _reference_of(record: Any) -> str:
    if isinstance(record, dict):
        value = record.get("value")
        if isinstance(value, dict):
            reference = value.get("referenceId")
            if isinstance(reference, str) and reference:
                return reference
    return NO_REFERENCE


def _line_problems(raw: bytes) -> tuple[Any, list[str]]:
    """Parse one raw line; return (record or None, problems of its form)."""
    if not raw.endswith(b"\n"):
        return _parsed_or_none(raw, ["last line does not end with a newline"])
    body = raw[:-1]
    if body.endswith(b"\r"):
        return _parsed_or_none(body[:-1], ["line ends with CR LF, not LF"])
    return _parsed_or_none(body, [])


def _parsed_or_none(body: bytes, problems: list[str]) -> tuple[Any, list[str]]:
    if not body.strip():
        return None, [*problems, "blank line"]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, [*problems, "line is not valid UTF-8"]
    try:
        record = parse_line(text)
    except _DuplicateKeyError as exc:
        return None, [*problems, f"duplicate key {str(exc)[:40]!r} in a JSON object"]
    except ValueError:
        return None, [*problems, "line is not valid JSON"]
    if not isinstance(record, dict):
        return None, [*problems, "line is not a JSON object"]
    return record, problems


def validate_file(
    path: Path, seen_refs: dict[str, tuple[str, int]], stats: ValidationStats
) -> Iterator[Problem]:
    """Yield the problems of one batch file; `seen_refs` carries refs across files."""
    name = str(path)
    stats.files += 1
    try:
        yield from _validate_readable_file(path, name, seen_refs, stats)
    except OSError as exc:
        yield Problem(name, 0, NO_REFERENCE, f"cannot read the file: {exc.strerror}")


def _validate_readable_file(
    path: Path, name: str, seen_refs: dict[str, tuple[str, int]], stats: ValidationStats
) -> Iterator[Problem]:
    size = path.stat().st_size
    if size > MAX_BATCH_BYTES:
        yield Problem(name, 0, NO_REFERENCE, f"{size} bytes, over the {MAX_BATCH_BYTES} limit")
    file_problems: list[tuple[int, str]] = []
    seen_orders: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(_gzip_lines(path, file_problems), start=1):
        stats.records += 1
        record, messages = _line_problems(raw)
        reference = _reference_of(record)
        if record is not None:
            messages.extend(record_problems(record))
            messages.extend(_duplicate_problems(record, name, number, seen_refs, seen_orders))
        for message in messages:
            yield Problem(name, number, reference, message)
    for line, message in file_problems:
        yield Problem(name, line, NO_REFERENCE, message)


def _duplicate_problems(
    record: dict[str, Any],
    name: str,
    number: int,
    seen_refs: dict[str, tuple[str, int]],
    seen_orders: dict[tuple[str, str], int],
) -> list[str]:
    problems = []
    ref = record.get("ref")
    if isinstance(ref, str):
        first = seen_refs.setdefault(ref, (name, number))
        if first != (name, number):
            problems.append(f"ref repeats the ref of {first[0]}:{first[1]}")
    value = record.get("value")
    if isinstance(value, dict):
        key = (value.get("referenceId"), value.get("orderedAt"))
        if all(isinstance(part, str) for part in key):
            first_line = seen_orders.setdefault(key, number)  # type: ignore[arg-type]
            if first_line != number:
                problems.append(
                    f"same referenceId and orderedAt as line {first_line} of this file"
                )
    return problems


def validate_files(paths: Sequence[Path], stats: ValidationStats) -> Iterator[Problem]:
    """Yield the problems of every file in order; `stats` holds the totals at the end."""
    seen_refs: dict[str, tuple[str, int]] = {}
    for path in paths:
        for problem in validate_file(path, seen_refs, stats):
            stats.problems += 1
            yield problem


def batch_files_in(folder: Path) -> list[Path]:
    """The batch files of an export folder, in upload (name) order."""
    return sorted(folder.glob("batch-*.json.gz"))
