"""One line of a batch file: its form (newline, UTF-8, strict JSON) and its record's findings.

Shared by `validate` and the sandbox, so both read a line by the same rules:
JSON without duplicate keys, NaN or Infinity (spec §1.2), then
`record_checks`. `check_line` takes the fast way first: a line that
`record_schema` proves clean needs neither Python's JSON parser nor the
per-attribute checks (~25 µs instead of ~105 µs a line).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cdp_loader.record_checks import record_findings
from cdp_loader.record_schema import clean_line

NO_REFERENCE = "-"


class DuplicateKeyError(ValueError):
    """A JSON object names a key twice; CDP's parser would keep one of them."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # dict() in C, and a loop in Python only when a key repeats: this hook
    # runs for every JSON object of every line.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_line(text: str | bytes) -> Any:
    """Strict JSON: no duplicate keys, no NaN or Infinity."""
    return json.loads(
        text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
    )


@dataclass
class LineFindings:
    """What one line holds and what is wrong with it.

    `ref`, `reference_id` and `ordered_at` are the record's when they are
    strings (else None); `reference` is the referenceId to report, or `-`.
    """

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ref: str | None = None
    reference_id: str | None = None
    ordered_at: str | None = None

    @property
    def reference(self) -> str:
        return self.reference_id or NO_REFERENCE


def check_line(body: bytes, terminated: bool = True) -> LineFindings:
    """Every finding of one line; `body` is without its LF, `terminated` says it had one."""
    if terminated:
        keys = clean_line(body)
        if keys is not None:
            return LineFindings(ref=keys.ref, reference_id=keys.reference_id,
                                ordered_at=keys.ordered_at)
    findings = LineFindings()
    if not terminated:
        findings.errors.append("last line does not end with a newline")
    elif body.endswith(b"\r"):
        body = body[:-1]
        findings.errors.append("line ends with CR LF, not LF")
    record = _parsed(body, findings.errors)
    if record is None:
        return findings
    found = record_findings(record)
    findings.errors.extend(found.errors)
    findings.warnings.extend(found.warnings)
    ref = record.get("ref")
    findings.ref = ref if isinstance(ref, str) else None
    value = record.get("value")
    if isinstance(value, dict):
        reference_id, ordered_at = value.get("referenceId"), value.get("orderedAt")
        findings.reference_id = reference_id if isinstance(reference_id, str) else None
        findings.ordered_at = ordered_at if isinstance(ordered_at, str) else None
    return findings


def _parsed(body: bytes, problems: list[str]) -> dict[str, Any] | None:
    """The line's JSON object, or None with the reason in `problems`."""
    if not body.strip():
        problems.append("blank line")
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        problems.append("line is not valid UTF-8")
        return None
    try:
        record = parse_line(text)
    except DuplicateKeyError as exc:
        problems.append(f"duplicate key {str(exc)[:40]!r} in a JSON object")
        return None
    except ValueError:
        problems.append("line is not valid JSON")
        return None
    if not isinstance(record, dict):
        problems.append("line is not a JSON object")
        return None
    return record
