"""Text that `ship` and `run` both print: the one-line summary and the rejected records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdp_loader.batch_folder import REJECTS_NAME
from cdp_loader.shipper import ShipReport

REJECTS_SHOWN = 20


def summary_line(report: ShipReport) -> str:
    """The one-line table of a report."""
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(report.rejected_by_code.items()))
    return (f"files {report.files} (succeeded {report.files_succeeded}, errored "
            f"{report.files_errored}, pending {report.files_pending}) | records "
            f"{report.records} | bytes {report.bytes} | rejected {report.rejected}"
            f"{f' ({codes})' if codes else ''} | deletes already absent "
            f"{report.deletes_already_absent} | {report.elapsed_seconds:.1f}s")


def reject_line(reject: dict[str, Any]) -> str:
    """One rejected record: referenceId, order_id, code and CDP's (documented) message."""
    code = reject.get("code") if reject.get("code") is not None else "no code"
    message = reject.get("message") or "no message"
    if not reject.get("ref"):
        return f"  {reject.get('file')} (the whole file): {code}: {message}"
    if reject.get("reference_id") is None:
        return (f"  ref {reject['ref']} (not in the index of {reject.get('file')}): "
                f"{code}: {message}")
    return (f"  {reject['reference_id']} (order_id {reject.get('order_id')}): {code}: "
            f"{message}")


def reject_lines(report: ShipReport, limit: int = REJECTS_SHOWN) -> list[str]:
    """The rejected records, the first `limit` of them, then how many more there are."""
    if not report.rejects:
        return []
    lines = [f"rejected records ({len(report.rejects)}):"]
    lines += [reject_line(reject) for reject in report.rejects[:limit]]
    if len(report.rejects) > limit:
        where = Path(report.directory) / REJECTS_NAME
        lines.append(f"  and {len(report.rejects) - limit} more in {where}")
    return lines


def failure_line(report: ShipReport) -> str:
    """The one-line reason of exit status 1."""
    parts = []
    if report.rejected:
        parts.append(f"{report.rejected} records rejected")
    if report.files_errored:
        parts.append(f"{report.files_errored} batches in error")
    if report.files_pending:
        parts.append(f"{report.files_pending} files not final")
    return (f"cdp-loader: {', '.join(parts) or 'not every batch succeeded'}; see "
            f"{Path(report.directory) / REJECTS_NAME}")
