"""Checks batch files against the CDP file format (spec §1) and the order models.

Files are streamed: one gzip block and one line at a time, each file in a
worker process of its own (one per core). Each line is checked by
`record_lines.check_line`: the export's canonical lines are proved clean by
`record_schema` in C, any other line gets `record_checks`' every rule and
message. Problems come out as `Problem(file, line, reference_id, message,
severity)`, file by file in upload order, then the refs repeated anywhere in
the run; line 0 means the file as a whole, and `-` stands for a line whose
referenceId is unknown. A warning (a key no model knows) never makes a file
invalid: `ValidationStats.problems` counts errors only.

A ref must be unique over every file. The refs are not held in Python (10M
of them take ~2 GB): each worker writes its file's refs to a private
temporary CSV and DuckDB finds the repeats over all of them at the end.
"""

from __future__ import annotations

import csv
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
from isal import isal_zlib

from cdp_loader.batch_files import MAX_BATCH_BYTES
from cdp_loader.batch_folder import BatchFolder
from cdp_loader.record_lines import NO_REFERENCE, check_line
from cdp_loader.record_schema import clean_line

ERROR = "error"
WARNING = "warning"
GZIP_MAGIC = b"\x1f\x8b"
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


def _gzip_lines(path: Path, problems: list[tuple[int, str]]) -> Iterator[tuple[bytes, bool]]:
    """Yield (line without its LF, whether it had one) for the single gzip member of `path`.

    File-level problems go into `problems` as (line, message); the caller
    reports them after the lines. Output is inflated at most `_INFLATE_BYTES`
    at a time, so a small file that inflates hugely cannot exhaust memory.
    """
    # ISA-L's inflate, as zlib's but ~1.7x faster: a third of the time of a clean line.
    decompressor = isal_zlib.decompressobj(_GZIP_WBITS)
    pending = b""
    with path.open("rb") as handle:
        block = handle.read(_READ_BYTES)
        if not block.startswith(GZIP_MAGIC):
            problems.append((0, "not a gzip file (no 1f 8b magic bytes)"))
            return
        while block and not decompressor.eof:
            try:
                data = decompressor.decompress(block, _INFLATE_BYTES)
            except (zlib.error, isal_zlib.error):
                problems.append((0, "gzip data is corrupt (bad deflate data or CRC)"))
                return
            if b"\n" in data:
                *lines, pending = (pending + data).split(b"\n")
                for line in lines:
                    yield line, True
            else:
                pending += data
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
        yield pending, False


# The refs of one file, one CSV row per line that has a string ref.
_REF_COLUMNS = ("file_index", "line", "ref", "reference_id")
# DuckDB's part of the run: finding repeats among every ref, spilling past this.
_REPEATS_MEMORY_LIMIT = "512MB"
_FETCH_ROWS = 10_000
_REF_ROWS = 4096  # refs written a batch at a time


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
    problems = report.problems
    rows: list[tuple[int, int, str, str]] = []
    number = 0
    for number, (body, terminated) in enumerate(_gzip_lines(path, file_problems), start=1):
        if len(rows) >= _REF_ROWS:
            refs.writerows(rows)
            rows.clear()
        # The fast way inline, lean: most lines are clean, and each step costs per line.
        keys = clean_line(body) if terminated else None
        if keys is not None:  # its ref and referenceId are non-empty strings
            ref, reference_id, ordered_at = keys
            rows.append((index, number, ref, reference_id))
            first_line = seen_orders.setdefault((reference_id, ordered_at), number)
            if first_line != number:
                problems.append(Problem(name, number, reference_id, _same_order(first_line)))
            continue
        line = check_line(body, terminated)
        reference = line.reference
        if line.ref is not None:
            rows.append((index, number, line.ref, reference))
        if line.reference_id is not None and line.ordered_at is not None:
            first_line = seen_orders.setdefault((line.reference_id, line.ordered_at), number)
            if first_line != number:
                line.errors.append(_same_order(first_line))
        for message in line.errors:
            problems.append(Problem(name, number, reference, message))
        for message in line.warnings:
            problems.append(Problem(name, number, reference, message, WARNING))
    refs.writerows(rows)
    report.records = number
    for line_number, message in file_problems:
        problems.append(Problem(name, line_number, NO_REFERENCE, message))


def _same_order(first_line: int) -> str:
    return f"same referenceId and orderedAt as line {first_line} of this file"


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
    return BatchFolder(folder).batch_files()
