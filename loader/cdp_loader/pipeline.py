"""The loader's jobs as functions that return reports: what `ship` and `run` do, without a shell.

An Airflow or Dagster task calls `run_job(RunOptions(...))` or
`ship_and_record(...)` and reads the report; the commands only parse options
and render the report as text or JSON. Signals are the caller's to turn into
`interrupts.Interrupted` (the CLI does; see `interrupts.stop_on_signals`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp_loader.api_client import BatchApiClient, Deadline
from cdp_loader.batch_files import MAX_BATCH_BYTES, ExportResult, write_batch_files
from cdp_loader.batch_folder import BatchFolder
from cdp_loader.dbt_build import BACKFILL_SELECTOR, JOB_BUILD_ARGS, run_dbt_build
from cdp_loader.errors import EXIT_OK, EXIT_REJECTED, LoaderError
from cdp_loader.mart_report import MartCounts, read_mart_counts
from cdp_loader.records import DAILY_DELTA, FULL_EXPORT
from cdp_loader.report import write_report
from cdp_loader.run_history import ShipRun, record_ship_run
from cdp_loader.sandbox import Sandbox
from cdp_loader.settings import Credentials, Settings
from cdp_loader.shipped_state import (
    DeltaSummary,
    RawFreshness,
    StateCounts,
    read_delta_summary,
    read_raw_freshness,
    record_shipped_state,
)
from cdp_loader.shipper import Progress, ShipReport, ship_directory
from cdp_loader.validate import Problem, ValidationStats, batch_files_in, validate_files
from cdp_loader.warehouse import (
    Target,
    Warehouse,
    WarehouseRef,
    default_profiles_dir,
    opened,
    resolve_target,
)

# Problems kept in a run's report: enough to act on; `cdp-loader validate DIR` lists all.
PROBLEMS_KEPT = 20
DEFAULT_TIMEOUT = 3600.0

Advance = Callable[[int], None]
ProgressBar = Callable[[str, int], contextlib.AbstractContextManager[Advance]]


@contextlib.contextmanager
def _no_bar(_label: str, _total: int) -> Iterator[Advance]:
    yield lambda _steps: None


@dataclass
class ShipOutcome:
    """A ship of one folder and what it added to the shipped state."""

    report: ShipReport
    state: StateCounts | None  # None when the state was not recorded
    run_id: str | None = None  # its row in cdp.cdp_ship_runs, when recorded


def ship_and_record(directory: Path, client: BatchApiClient, *,
                    database: WarehouseRef | Warehouse | None, concurrency: int = 1,
                    poll_interval: float = 5.0, wait: bool = False,
                    progress: Progress | None = None, scope: str = "ship") -> ShipOutcome:
    """Ship a folder under its lock, then record the finished batches in DATABASE.

    DATABASE is the warehouse of the dbt target (a `Target`, a DuckDB file, or
    a warehouse already open), None to record nothing. The lock is held from
    before the first file to after the recording, so no other process ships or
    exports the folder meanwhile. The state is recorded also when shipping
    stops with an error or a signal: the batches that finished are in CDP and
    the next daily run must know it; the ship's own error then wins, and a
    failure to record is reported beside it. A ship that ends (exit 0 or 1)
    adds its row to cdp.cdp_ship_runs (`scope`: "ship", "full" or "daily").
    """
    folder = BatchFolder(directory)
    if not folder.path.is_dir():
        raise LoaderError(f"{folder.path} is not a folder")
    started_at = datetime.now(UTC)
    with folder.locked("ship", wait=wait):
        try:
            report = ship_directory(folder.path, client, concurrency=concurrency,
                                    poll_interval=poll_interval, progress=progress)
        except BaseException as exc:
            if database is not None:
                try:
                    record_shipped_state(folder.path, database)
                except LoaderError as failure:
                    if isinstance(exc, LoaderError):
                        exc.message += (f"; the shipped state was not recorded either: "
                                        f"{failure.format_message()}")
            raise
        if database is None:
            return ShipOutcome(report, None)
        try:
            with opened(database) as warehouse:
                state = record_shipped_state(folder.path, warehouse)
                run = _ship_run(report, scope, started_at)
                record_ship_run(warehouse, run)
        except LoaderError as exc:
            raise LoaderError(
                f"the batches were shipped, but the shipped state was not recorded: "
                f"{exc.format_message()}; run `cdp-loader ship {folder.path} "
                f"{_warehouse_option(database)}` to record it") from None
    return ShipOutcome(report, state, run.run_id)


def _warehouse_option(database: WarehouseRef | Warehouse) -> str:
    """The option of `ship` that names the same warehouse again."""
    target = database if isinstance(database, Target) else getattr(database, "target", None)
    if target is None:
        return f"--database {database}"
    if target.type == "duckdb":
        return f"--database {target.settings['path']}"
    return f"--target {target.name}"


def _ship_run(report: ShipReport, scope: str, started_at: datetime) -> ShipRun:
    """The row of cdp.cdp_ship_runs for a ship that ended (over the folder's files)."""
    final = [row for row in report.per_file if row["state"] in ("success", "error")]
    sent = sum(row["records"] for row in final)
    return ShipRun(
        run_id=str(uuid.uuid4()), started_at=started_at, finished_at=datetime.now(UTC),
        scope=scope, batch_dir=report.directory, files=report.files, bytes=report.bytes,
        records_sent=sent,
        records_succeeded=max(0, sent - report.rejected - report.deletes_already_absent),
        records_rejected=report.rejected, rejected_by_code=dict(report.rejected_by_code),
        deletes_already_absent=report.deletes_already_absent,
        duration_seconds=report.elapsed_seconds, exit_code=report.exit_code)


@dataclass(frozen=True)
class RunOptions:
    """What `cdp-loader run` is asked to do.

    The warehouse is the dbt target `target` (default CDP_DBT_TARGET, else
    duckdb); for duckdb, `database` is the file.
    """

    database: Path | None = None
    target: str | None = None
    out_root: Path = Path("batches")
    project_dir: Path = Path(".")
    settings: Settings | None = None  # the Batch API; None with `sandbox`
    daily: bool = False
    allow_stale_sources: bool = False  # --daily although no raw version is newer than the last ship
    skip_dbt: bool = False
    sandbox: bool = False  # a rehearsal against a local sandbox: nothing is recorded
    max_bytes: int = MAX_BATCH_BYTES
    timeout: float = DEFAULT_TIMEOUT
    poll_interval: float = 5.0


@dataclass
class RunReport:
    """Everything a run did, filled in stage by stage."""

    scope: str  # "daily" or "full"
    sandbox: bool
    started: float = field(default_factory=time.monotonic)
    built: bool = False
    mart: MartCounts | None = None
    delta: DeltaSummary | None = None
    freshness: RawFreshness | None = None
    to_send: int = 0
    folder: Path | None = None
    export: ExportResult | None = None
    validation: ValidationStats | None = None
    problems: list[Problem] = field(default_factory=list)  # the first PROBLEMS_KEPT
    ship: ShipReport | None = None
    state: StateCounts | None = None
    html_report: Path | None = None  # `cdp-loader report` of the warehouse after the run
    elapsed_seconds: float = 0.0

    @property
    def nothing_to_send(self) -> bool:
        return self.delta is not None and self.to_send == 0

    @property
    def exit_code(self) -> int:
        if self.validation is not None and self.validation.problems:
            return EXIT_REJECTED
        if self.ship is not None:
            return self.ship.exit_code
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "mart": self.mart.to_dict() if self.mart else None,
            "delta": self.delta.to_dict() if self.delta else None,
            "freshness": self.freshness.to_dict() if self.freshness else None,
            "export": None if self.export is None else {
                "folder": str(self.folder), "files": len(self.export.files),
                "records": self.export.records, "bytes": self.export.bytes},
            "validate": None if self.validation is None else {
                "problems": self.validation.problems,
                "findings": [problem.__dict__ for problem in self.problems]},
            "ship": self.ship.to_dict() if self.ship else None,
            "state": self.state.to_dict() if self.state else None,
            "report": str(self.html_report) if self.html_report else None,
            "sandbox": self.sandbox,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "exit_code": self.exit_code,
        }


Stage = Callable[[str, RunReport], None]


@contextlib.contextmanager
def _batch_api(options: RunOptions) -> Iterator[Settings]:
    if not options.sandbox:
        if options.settings is None:
            raise LoaderError("no Batch API settings given (or ask for a sandbox rehearsal)")
        yield options.settings
        return
    with Sandbox() as sandbox:
        yield Settings(sandbox.base_url, Credentials(sandbox.client_key, sandbox.api_token))


def run_job(options: RunOptions, *, on_stage: Stage | None = None,
            progress: Progress | None = None, bar: ProgressBar | None = None) -> RunReport:
    """Build, report, export, validate, ship and record: the whole job.

    `on_stage(name, report)` is called after each stage ("build", "mart",
    "delta", "export", "validate", "ship", "report": the HTML report written
    beside the batch folder); `progress(file, message)` gets the
    shipper's progress; `bar(label, total)` gives a progress bar for the export.
    Nothing is shipped when validation finds a problem, nor when a daily delta
    is empty. Raises LoaderError (or Interrupted) when a stage cannot be done.
    The warehouse is the dbt target of `options` (`warehouse.resolve_target`).
    """
    report = RunReport(scope="daily" if options.daily else "full", sandbox=options.sandbox)
    target = resolve_target(options.target, database=options.database,
                            profiles_dir=default_profiles_dir(options.project_dir))
    with _batch_api(options) as settings:
        if not options.skip_dbt:
            # Quiet: dbt still prints every failing model or test, with its log.
            scope = () if options.daily else ("--selector", BACKFILL_SELECTOR)
            run_dbt_build(options.project_dir, target, ("--quiet", *JOB_BUILD_ARGS, *scope))
            report.built = True
            if on_stage is not None:
                on_stage("build", report)
        # Opened after dbt build: a local catalog is one process's at a time.
        with opened(target) as warehouse:
            _export_ship_and_report(options, report, warehouse, settings,
                                    on_stage=on_stage, progress=progress, bar=bar)
    return _finished(report)


def _export_ship_and_report(options: RunOptions, report: RunReport, warehouse: Warehouse,
                            settings: Settings, *, on_stage: Stage | None,
                            progress: Progress | None, bar: ProgressBar | None) -> None:
    """The stages of a run after the build, on one open warehouse."""
    stage = on_stage or (lambda _name, _report: None)
    relation = DAILY_DELTA if options.daily else FULL_EXPORT
    report.mart = read_mart_counts(warehouse)
    stage("mart", report)
    if options.daily:
        report.freshness = read_raw_freshness(warehouse)
        if not report.freshness.refreshed and not options.allow_stale_sources:
            raise LoaderError(report.freshness.stale_reason())
        report.delta = read_delta_summary(warehouse)
        stage("delta", report)
    report.to_send = warehouse.count_records(relation)
    if report.nothing_to_send:
        return

    report.folder = options.out_root / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    folder = BatchFolder(report.folder)
    # One lock from the first file written to the last record recorded.
    with folder.locked("run"):
        with (bar or _no_bar)("Exporting records", report.to_send) as advance:
            report.export = write_batch_files(
                warehouse.iter_record_chunks(relation), folder.path,
                max_bytes=options.max_bytes, on_records=advance)
        stage("export", report)

        report.validation = ValidationStats()
        for problem in validate_files(batch_files_in(folder.path), report.validation):
            if len(report.problems) < PROBLEMS_KEPT:
                report.problems.append(problem)
        stage("validate", report)
        if report.validation.problems:
            return

        client = BatchApiClient(settings.base_url, settings.credentials,
                                deadline=Deadline(options.timeout),
                                backoff_base=min(0.25, options.poll_interval))
        # A rehearsal is not recorded: the real CDP did not receive it.
        outcome = ship_and_record(folder.path, client,
                                  database=None if options.sandbox else warehouse,
                                  poll_interval=options.poll_interval, progress=progress,
                                  scope=report.scope)
        report.ship, report.state = outcome.report, outcome.state
        stage("ship", report)
    report.html_report = write_report(warehouse,
                                      folder.path.with_name(f"{folder.path.name}.html"))
    stage("report", report)


def _finished(report: RunReport) -> RunReport:
    report.elapsed_seconds = time.monotonic() - report.started
    return report
