"""What the sandbox does with an uploaded batch file: unpack, check and apply each record.

The file must be exactly one gzip member holding NDJSON (spec §1). Each line is read and
checked by the rules `cdp-loader validate` uses (`record_lines.parse_line`: strict JSON,
no duplicate keys or NaN; `record_checks.record_problems`: every mode), then applied to
the order store. Warnings (keys no model knows) do not fail a record. Failed records go
to the error log as gzipped NDJSON lines `{"ref", "code", "message"}` (spec §2.7).
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from cdp_loader.record_checks import record_problems
from cdp_loader.record_lines import parse_line
from cdp_loader.sandbox.faults import FaultPlan
from cdp_loader.sandbox.orders import OrderStore, Outcome

APPLIED_MODES = ("insert", "upsert", "delete")
UNSUPPORTED_MODE = "Unsupported mode"
NOT_JSON = "Validation error: the line is not a JSON object"


def unpack(gz_bytes: bytes) -> list[bytes] | None:
    """The lines of a one-member gzip file; None when it is not exactly that (no log then)."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(gz_bytes)
    except zlib.error:
        return None
    if not decompressor.eof or decompressor.unused_data:
        return None
    lines = data.split(b"\n")
    # The last line ends in "\n" too, which leaves one empty piece behind.
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def process_lines(
    lines: list[bytes], *, batch_ref: str, faults: FaultPlan, orders: OrderStore
) -> list[dict[str, Any]]:
    """Check and apply every line; one received-record dict per line, in file order."""
    return [
        _process_line(number, line, batch_ref, faults, orders)
        for number, line in enumerate(lines, start=1)
    ]


FILE_ERROR_MESSAGE = "Validation error: the file as a whole was refused"


def error_log(received: list[dict[str, Any]], *, numeric_codes: bool = False,
              file_error: bool = False) -> bytes | None:
    """The gzipped error log of the failed records; None when every record succeeded.

    `file_error` writes one line with no ref, as for a file refused whole.
    """
    failed = [entry for entry in received if not 200 <= entry["code"] < 300]
    if file_error:
        failed = [{"code": 400, "message": FILE_ERROR_MESSAGE}]
    if not failed:
        return None
    # The docs show `code` as a string; clients must read strings and numbers alike.
    text = "".join(
        json.dumps(
            {**({"ref": entry["ref"]} if "ref" in entry else {}),
             "code": entry["code"] if numeric_codes else str(entry["code"]),
             "message": entry["message"]},
            separators=(",", ":"), ensure_ascii=False,
        ) + "\n"
        for entry in failed
    )
    return gzip.compress(text.encode("utf-8"), mtime=0)


def _process_line(
    number: int, line: bytes, batch_ref: str, faults: FaultPlan, orders: OrderStore
) -> dict[str, Any]:
    record = _parse(line)
    value = record.get("value") if isinstance(record, dict) else None
    value = value if isinstance(value, dict) else {}
    envelope = record if isinstance(record, dict) else {}
    outcome = _outcome(number, record, batch_ref, faults, orders)
    return {
        "batchRef": batch_ref,
        "line": number,
        "ref": envelope.get("ref"),
        "schema": envelope.get("schema"),
        "mode": envelope.get("mode"),
        "referenceId": value.get("referenceId"),
        "orderedAt": value.get("orderedAt"),
        "code": outcome.code,
        "message": outcome.message,
    }


def _outcome(
    number: int, record: Any, batch_ref: str, faults: FaultPlan, orders: OrderStore
) -> Outcome:
    if not isinstance(record, dict):
        return Outcome(400, NOT_JSON)
    mode = record.get("mode")
    if isinstance(mode, str) and mode not in APPLIED_MODES:
        return Outcome(402, UNSUPPORTED_MODE)
    problems = record_problems(record)
    value = record.get("value")
    # Guard the sandbox itself in case the checks let a malformed envelope through.
    if not problems and (mode not in APPLIED_MODES or not isinstance(value, dict)):
        problems = ["mode and value are required"]
    if problems:
        return Outcome(400, "Validation error: " + "; ".join(problems))
    rejection = faults.rejection(number, value.get("referenceId"))
    if rejection is not None:
        return Outcome(400, rejection)
    return orders.apply(str(mode), value, batch_ref=batch_ref, record_ref=record.get("ref"))


def _parse(line: bytes) -> Any:
    try:
        return parse_line(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):  # a duplicate key or NaN is a ValueError too
        return None
