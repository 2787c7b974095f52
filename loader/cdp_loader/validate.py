"""Checks batch files against the CDP file format (spec §1) and the order models.

Files are streamed: one gzip block and one line at a time, each file in a
worker process of its own (one per core). Problems come out as
`Problem(file, line, reference_id, message)`, file by file in upload order,
then the refs repeated anywhere in the run; line 0 means the file as a whole,
and `-` stands for a line whose referenceId is unknown.

A ref must be unique over every file. The refs are not held in Python (10M
of them take ~2 GB): each worker writes its file's refs to a private
temporary CSV and DuckDB finds the repeats over all of them at the end.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cdp_loader.batch_files import MAX_BATCH_BYTES
from cdp_loader.record_checks import record_findings

ERROR = "error"
WARNING = "warning"
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
    severity: str = ERROR  # or WARNING, which never makes a file invalid


@dataclass
class ValidationStats:
    """Totals of a validation run, filled in while problems are yielded."""

    files: int = 0
    records: int = 0
    problems: int = 0  # errors only
    warnings: int = 0


class _DuplicateKeyError(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() in C, and a loop in Python only when a key repeats: this hook
    # runs for every JSON object of every line.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
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


# The refs of one file, one CSV row per line that has a string ref.
_REF_COLUMNS = ("file_index", "line", "ref", "reference_id")
# DuckDB's part of the run: finding repeats among every ref, spilling past this.
_REPEATS_MEMORY_LIMIT = "512MB"
_FETCH_ROWS = 10_000


@dataclass
class _FileReport:
    """What a worker found in one file; its refs went to `refs_path`."""

    records: int = 0
    problems: list[Problem] = field(default_factory=list)


def check_file(index: int, path: Path, refs_path: Path) -> _FileReport:
    """Every problem of one file but repeated refs; its refs are written to `refs_path`."""
    name = str(path)
    report = _FileReport()
    with refs_path.open("w", newline="", encoding="utf-8") as refs_file:
        refs = csv.writer(refs_file, lineterminator="\n")
        refs.writerow(_REF_COLUMNS)
        try:
            _check_readable_file(index, path, name, report, refs)
        except OSError as exc:
            report.problems.append(
                Problem(name, 0, NO_REFERENCE, f"cannot read the file: {exc.strerror}"))
    return report


def _check_readable_file(
    index: int, path: Path, name: str, report: _FileReport, refs: Any
) -> None:
    size = path.stat().st_size
    if size > MAX_BATCH_BYTES:
        report.problems.append(
            Problem(name, 0, NO_REFERENCE, f"{size} bytes, over the {MAX_BATCH_BYTES} limit"))
    file_problems: list[tuple[int, str]] = []
    seen_orders: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(_gzip_lines(path, file_problems), start=1):
        report.records += 1
        record, messages = _line_problems(raw)
        reference = _reference_of(record)
        warnings: list[str] = []
        if record is not None:
            findings = record_findings(record)
            messages.extend(findings.errors)
            warnings = findings.warnings
            messages.extend(_same_order_problems(record, number, seen_orders))
            ref = record.get("ref")
            if isinstance(ref, str):
                refs.writerow((index, number, ref, reference))
        for message in messages:
            report.problems.append(Problem(name, number, reference, message))
        for message in warnings:
            report.problems.append(Problem(name, number, reference, message, WARNING))
    for line, message in file_problems:
        report.problems.append(Problem(name, line, NO_REFERENCE, message))


def _same_order_problems(
    record: dict[str, Any], number: int, seen_orders: dict[tuple[str, str], int]
) -> list[str]:
    value = record.get("value")
    if isinstance(value, dict):
        key = (value.get("referenceId"), value.get("orderedAt"))
        if all(isinstance(part, str) for part in key):
            first_line = seen_orders.setdefault(key, number)  # type: ignore[arg-type]
            if first_line != number:
                return [f"same referenceId and orderedAt as line {first_line} of this file"]
    return []


def _repeated_refs(refs_dir: Path, paths: Sequence[Path]) -> Iterator[Problem]:
    """A problem for every line whose ref an earlier line (of any file) has."""
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(f"set memory_limit = '{_REPEATS_MEMORY_LIMIT}'")
        connection.execute("set temp_directory = ?", [str(refs_dir / "spill")])
        columns = "{'file_index': 'BIGINT', 'line': 'BIGINT', 'ref': 'VARCHAR', "\
            "'reference_id': 'VARCHAR'}"
        connection.execute(f"""
            with refs as (
                select * from read_csv(?, header = true, columns = {columns},
                                       quote = '"', escape = '"', delim = ',')
            ),
            numbered as (
                select
                    *,
                    first_value(file_index) over by_ref as first_file_index,
                    first_value(line) over by_ref as first_line,
                    row_number() over by_ref as occurrence
                from refs
                window by_ref as (partition by ref order by file_index, line)
            )
            select file_index, line, reference_id, first_file_index, first_line
            from numbered
            where occurrence > 1
            order by file_index, line
        """, [str(refs_dir / "refs-*.csv")])
        while rows := connection.fetchmany(_FETCH_ROWS):
            for file_index, line, reference, first_file_index, first_line in rows:
                yield Problem(str(paths[file_index]), line, reference,
                              f"ref repeats the ref of {paths[first_file_index]}:{first_line}")
    finally:
        connection.close()


def validate_files(
    paths: Sequence[Path], stats: ValidationStats, workers: int | None = None
) -> Iterator[Problem]:
    """Yield the problems of every file in order, then the repeated refs.

    `stats` holds the totals at the end. Files are checked `workers` at a
    time (default: one per core); a single file is checked in this process.
    """
    workers = min(workers or os.cpu_count() or 1, len(paths))
    with tempfile.TemporaryDirectory(prefix="cdp-validate-") as refs_dir_name:
        refs_dir = Path(refs_dir_name)
        jobs = (range(len(paths)), paths,
                [refs_dir / f"refs-{index:06d}.csv" for index in range(len(paths))])
        if workers <= 1:
            reports: Iterator[_FileReport] = map(check_file, *jobs)
            yield from _counted(reports, stats)
        else:
            # spawn, not fork: the parent may hold DuckDB's threads and locks.
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                yield from _counted(pool.map(check_file, *jobs), stats)
        if not paths:
            return
        for problem in _repeated_refs(refs_dir, paths):
            stats.problems += 1
            yield problem


def _counted(reports: Iterator[_FileReport], stats: ValidationStats) -> Iterator[Problem]:
    for report in reports:
        stats.files += 1
        stats.records += report.records
        for problem in report.problems:
            if problem.severity == WARNING:
                stats.warnings += 1
            else:
                stats.problems += 1
            yield problem


def batch_files_in(folder: Path) -> list[Path]:
    """The batch files of an export folder, in upload (name) order."""
    return sorted(folder.glob("batch-*.json.gz"))
