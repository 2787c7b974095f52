"""The record of each ship run, one row per run in `cdp.cdp_ship_runs`.

dbt creates the table empty (`on-run-start`, macros/cdp/create_ship_runs_table.sql)
and reads it as the source `cdp_state.cdp_ship_runs`; the pipeline calls
`record_ship_run` after each ship, and `cdp-loader report` draws the runs.
No personal data: counts, a folder, times and CDP's error codes.

    record_ship_run(Path("warehouse.duckdb"), ShipRun(run_id="run-20261202T0300Z", ...))
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdp_loader.errors import LoaderError
from cdp_loader.warehouse import (
    BUILD_HINT,
    Column,
    Warehouse,
    WarehouseRef,
    opened,
    write_staged_rows,
)

SHIP_RUNS = "cdp_ship_runs"
SCOPES = ("full", "daily", "ship")
# The table's columns (macros/cdp/create_ship_runs_table.sql).
TYPED_COLUMNS = (
    Column("run_id", "text"), Column("started_at", "timestamp"),
    Column("finished_at", "timestamp"), Column("scope", "text"), Column("batch_dir", "text"),
    Column("files", "bigint"), Column("bytes", "bigint"), Column("records_sent", "bigint"),
    Column("records_succeeded", "bigint"), Column("records_rejected", "bigint"),
    Column("rejected_by_code", "text"), Column("deletes_already_absent", "bigint"),
    Column("duration_seconds", "double"), Column("exit_code", "int"),
)
COLUMNS = tuple(column.name for column in TYPED_COLUMNS)


@dataclass(frozen=True)
class ShipRun:
    """One ship run: what it sent, what CDP made of it, how long it took, how it exited.

    `scope` is 'full' (a backfill), 'daily' or 'ship' (a folder on its own);
    `rejected_by_code` counts the rejected records by CDP error code. Times
    are UTC: an aware datetime is converted, a naive one is taken as UTC.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime
    scope: str
    batch_dir: str
    files: int
    bytes: int
    records_sent: int
    records_succeeded: int
    records_rejected: int
    rejected_by_code: dict[str, int]
    deletes_already_absent: int
    duration_seconds: float
    exit_code: int

    def __post_init__(self) -> None:
        if not self.run_id:
            raise ValueError("a ship run needs a run_id")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")
        counts = {
            "files": self.files, "bytes": self.bytes, "records_sent": self.records_sent,
            "records_succeeded": self.records_succeeded,
            "records_rejected": self.records_rejected,
            "deletes_already_absent": self.deletes_already_absent,
            **{f"rejected_by_code[{code!r}]": n for code, n in self.rejected_by_code.items()},
        }
        for name, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a count (an int >= 0), not {value!r}")
        if self.duration_seconds < 0:
            raise ValueError(f"duration_seconds must be >= 0, not {self.duration_seconds!r}")

    def row(self) -> tuple[object, ...]:
        """The values of the table's columns, in COLUMNS order."""
        return (
            self.run_id, _utc(self.started_at), _utc(self.finished_at), self.scope,
            self.batch_dir, self.files, self.bytes, self.records_sent,
            self.records_succeeded, self.records_rejected,
            json.dumps(self.rejected_by_code, sort_keys=True, separators=(",", ":")),
            self.deletes_already_absent, float(self.duration_seconds), self.exit_code,
        )


def _utc(moment: datetime) -> datetime:
    """The UTC wall clock of moment, naive (a DuckDB timestamp)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def record_ship_run(database: WarehouseRef | Warehouse, run: ShipRun) -> None:
    """Add RUN to cdp.cdp_ship_runs of the warehouse, in one transaction where it has them.

    Idempotent on run_id: a run already recorded is left as it is, so that a
    repeated call adds nothing. A warehouse whose table is missing (dbt
    never built it) is a one-line LoaderError.
    """
    with opened(database) as warehouse:
        if SHIP_RUNS not in warehouse.tables():
            raise LoaderError(f"{warehouse.relation(SHIP_RUNS)} is missing in "
                              f"{warehouse.target.describe()}; {BUILD_HINT}")
        with tempfile.TemporaryDirectory(prefix="cdp-ship-run-") as work:
            staged = Path(work) / "ship_run.csv"
            write_staged_rows(staged, iter([run.row()]))
            warehouse.append_new_rows(SHIP_RUNS, TYPED_COLUMNS, staged, ("run_id",))
