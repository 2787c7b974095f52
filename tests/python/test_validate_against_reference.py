"""The new validator finds what today's found (tests/python/reference_validator.py).

For random valid lines and lines with one fault of each kind, `check_line`
reports the reference's problems, in its order, for the same referenceId;
by design (issue 11) a key no model knows is now a warning naming the nearest
key, and a FLIGHT item may leave out name, description and vendor. Whole
files, with refs repeated across them, give the reference's problems too.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reference_validator as reference
from cdp_loader.record_lines import check_line
from cdp_loader.record_schema import clean_line
from cdp_loader.validate import WARNING, Problem, ValidationStats, validate_files
from export_helpers import canonical_json
from reference_record_checks import record_problems as reference_record_problems
from validator_cases import faulty_lines, valid_records

UNKNOWN = " is not an attribute of this model"
_FLIGHT_OPTIONAL = re.compile(
    r"value\.orderItems\[(\d+)\]\.(?:name|description|vendor) is required")
_HINT = re.compile(r"; did you mean \w+\?$")


def _is_unknown_key(message: str) -> bool:
    return message.endswith(UNKNOWN)


def _dropped_by_design(record: object, message: str) -> bool:
    """The reference's messages the new rules drop: flight items' name, description, vendor."""
    match = _FLIGHT_OPTIONAL.fullmatch(message)
    if not match or not isinstance(record, dict) or not isinstance(record.get("value"), dict):
        return False
    items = record["value"].get("orderItems")
    index = int(match.group(1))
    return (isinstance(items, list) and index < len(items) and isinstance(items[index], dict)
            and items[index].get("type") == "FLIGHT")


def expected(body: bytes, terminated: bool = True) -> tuple[list[str], list[str], str]:
    """(errors, warnings, referenceId) the new validator must give, from the reference's."""
    record, messages = reference._line_problems(body + b"\n" if terminated else body)
    if record is not None:
        try:
            messages = messages + reference_record_problems(record)
        except TypeError:  # the reference's crash on a list or object as schema or mode
            assume(False)
    messages = [m for m in messages if not _dropped_by_design(record, m)]
    errors = [m for m in messages if not _is_unknown_key(m)]
    warnings = [m for m in messages if _is_unknown_key(m)]
    return errors, warnings, reference._reference_of(record)


def found(body: bytes, terminated: bool = True) -> tuple[list[str], list[str], str]:
    line = check_line(body, terminated)
    return line.errors, [_HINT.sub("", w) for w in line.warnings], line.reference


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=valid_records())
def test_valid_lines_are_clean_by_both_and_take_the_fast_way(record: dict) -> None:
    body = canonical_json(record).encode()
    assert found(body) == expected(body)
    assert found(body)[:2] == ([], [])
    assert clean_line(body) is not None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=faulty_lines(), terminated=st.booleans())
def test_a_line_with_one_fault_gets_the_references_problems(body: bytes,
                                                            terminated: bool) -> None:
    assert found(body, terminated) == expected(body, terminated)


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(gzip.compress(b"".join(line + b"\n" for line in lines), mtime=0))
    return path


def _reference_run(paths: list[Path]) -> list[Problem]:
    stats = reference.ValidationStats()
    try:
        return [Problem(p.file, p.line, p.reference_id, p.message)
                for p in reference.validate_files(paths, stats, workers=1)]
    except TypeError:  # the reference's crash on a list or object as schema or mode
        assume(False)
        raise


def _normalised(problems: list[Problem], records: dict[tuple[str, int], object]) -> list:
    """Messages compared without the hint; the reference's dropped-by-design ones left out.

    A line's warnings now follow its errors (the reference had them among its errors).
    """
    kept = [(p.file, p.line, p.reference_id, _HINT.sub("", p.message)) for p in problems
            if not _dropped_by_design(records.get((p.file, p.line)), p.message)]
    groups: dict[tuple[str, int], int] = {}
    for file, line, _, _ in kept:
        groups.setdefault((file, line), len(groups))
    return sorted(kept, key=lambda p: (groups[(p[0], p[1])], _is_unknown_key(p[3])))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.lists(st.one_of(valid_records().map(lambda r: canonical_json(r).encode()),
                                         faulty_lines()), min_size=1, max_size=6),
                      min_size=1, max_size=3),
       repeat=st.booleans())
def test_whole_files_give_the_references_problems(tmp_path: Path, files: list[list[bytes]],
                                                  repeat: bool) -> None:
    if repeat:  # the same lines again: repeated refs across files, same orders in a file
        files = [*files, files[0] + files[0]]
    paths = [_write(tmp_path / f"batch-{n:05d}.json.gz", lines)
             for n, lines in enumerate(files, start=1)]
    records: dict[tuple[str, int], object] = {}
    for path, lines in zip(paths, files, strict=True):
        for number, line in enumerate(lines, start=1):
            with contextlib.suppress(ValueError):
                records[(str(path), number)] = json.loads(line)
    stats = ValidationStats()
    new = list(validate_files(paths, stats, workers=1))
    old = _reference_run(paths)
    assert _normalised(new, records) == _normalised(old, records)
    assert [p.severity == WARNING for p in new] == [p.message.endswith(UNKNOWN) or
                                                    bool(_HINT.search(p.message)) for p in new]
    assert stats.problems == sum(p.severity != WARNING for p in new)
    assert stats.warnings == len(new) - stats.problems
    assert stats.records == sum(len(lines) for lines in files)
