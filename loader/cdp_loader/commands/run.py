"""`cdp-loader run`: the whole job, from dbt build to a report of what CDP took."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click

from cdp_loader.api_client import BatchApiClient, Deadline
from cdp_loader.batch_files import MAX_BATCH_BYTES, MIN_BATCH_BYTES, write_batch_files
from cdp_loader.commands.ship import (
    DEFAULT_TIMEOUT,
    api_settings_options,
    record_state_after_ship,
    remember_latest_ship,
    settings_from_options,
    summary_line,
)
from cdp_loader.dbt_build import BACKFILL_SELECTOR, run_dbt_build
from cdp_loader.errors import EXIT_REJECTED
from cdp_loader.mart_report import read_mart_counts
from cdp_loader.progress import progress
from cdp_loader.records import DAILY_DELTA, FULL_EXPORT, count_records, iter_record_chunks
from cdp_loader.sandbox import Sandbox
from cdp_loader.settings import Credentials, Settings
from cdp_loader.shipped_state import DeltaSummary, read_delta_summary
from cdp_loader.shipper import ship_directory
from cdp_loader.validate import ValidationStats, batch_files_in, validate_files

# Enough problems to act on; the full list is `cdp-loader validate DIR` away.
_PROBLEMS_SHOWN = 20


@contextlib.contextmanager
def _batch_api(use_sandbox: bool, base_url: str | None, region: str | None,
               client_key: str | None, api_token: str | None) -> Iterator[Settings]:
    """The settings to ship with: a sandbox started for this run, or the configured CDP."""
    if not use_sandbox:
        yield settings_from_options(base_url, region, client_key, api_token)
        return
    with Sandbox() as sandbox:
        yield Settings(sandbox.base_url, Credentials(sandbox.client_key, sandbox.api_token))


def _heading(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


@click.command("run")
@click.option("--out", "out_root", default=Path("batches"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder that receives one batch folder per run (run-<UTC time>).")
@click.option("--database", envvar="CDP_DUCKDB_PATH", show_envvar=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The DuckDB warehouse: raw tables in, the CDP mart out.")
@click.option("--project-dir", default=Path("."), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The dbt project (with its profiles/ folder).")
@click.option("--skip-dbt", is_flag=True, help="Ship the mart as it is, without `dbt build`.")
@click.option("--daily", is_flag=True,
              help="Send only what changed since the last ship (cdp.cdp_batch_records_delta).")
@click.option("--full-refresh", is_flag=True,
              help="Send every order (cdp.cdp_batch_records): the default, named explicitly.")
@click.option("--sandbox", "use_sandbox", is_flag=True,
              help="Rehearse: ship to a local Batch API sandbox started for this run.")
@api_settings_options
@click.option("--max-bytes", type=click.IntRange(MIN_BATCH_BYTES, MAX_BATCH_BYTES),
              default=MAX_BATCH_BYTES, show_default=True,
              help="Largest compressed size of one batch file.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS", help="Give up shipping after this long.")
@click.option("--poll-interval", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True, metavar="SECONDS", help="First wait between status polls.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON on stdout.")
@click.option("--no-progress", is_flag=True, help="Do not draw progress bars.")
def run(out_root: Path, database: Path, project_dir: Path, skip_dbt: bool, daily: bool,
        full_refresh: bool, use_sandbox: bool, base_url: str | None, region: str | None,
        client_key: str | None, api_token: str | None, max_bytes: int, timeout: float,
        poll_interval: float, as_json: bool, no_progress: bool) -> None:
    """Build the mart, export it, validate the files and ship them: the whole job.

    Runs `dbt build` (without the daily delta, unless --daily), prints where
    every current order went (shipped, deleted, excluded, quarantined by
    reason), exports cdp.cdp_batch_records into a new folder OUT/run-<UTC
    time>, validates every file and ships the folder, records what CDP now
    holds in cdp.cdp_shipped_orders (not for a --sandbox rehearsal), then
    prints what CDP took. Exit status as for `ship`; 1 also when validation
    finds a problem (nothing is shipped then).

    With --daily only the day's changes leave (cdp.cdp_batch_records_delta):
    new and changed orders, deletes not yet shipped, records rejected last
    time, and the delete of what CDP holds for an order that moved; the report
    counts them and the unchanged orders skipped. An empty delta ships nothing.
    Without it (or with --full-refresh) every order is sent: the backfill.

    \b
    Examples:
        cdp-loader run --sandbox                # a rehearsal on this machine
        CDP_BASE_URL=https://api-engage-eu.sitecorecloud.io \\
        CDP_CLIENT_KEY=... CDP_API_TOKEN=... cdp-loader run           # backfill
        cdp-loader run --daily                  # every night after that
    """
    if daily and full_refresh:
        raise click.UsageError("--daily and --full-refresh exclude each other")
    relation = DAILY_DELTA if daily else FULL_EXPORT
    started = time.monotonic()
    echo = (lambda *_: None) if as_json else click.echo
    with _batch_api(use_sandbox, base_url, region, client_key, api_token) as settings:
        if not skip_dbt:
            # Quiet: dbt still prints every failing model or test, with its log.
            scope = () if daily else ("--selector", BACKFILL_SELECTOR)
            run_dbt_build(project_dir, database, ("--quiet", *scope))
            echo("dbt build: every model built and every test passed")
        counts = read_mart_counts(database)
        if not as_json:
            _heading("the mart")
            for line in counts.lines():
                click.echo(line)

        delta = read_delta_summary(database) if daily else None
        if delta is not None and not as_json:
            _heading("the delta (what changed since the last ship)")
            for line in delta.lines():
                click.echo(line)
        to_send = count_records(database, relation)
        if delta is not None and to_send == 0:
            _report_nothing_to_send(counts.to_dict(), delta, use_sandbox, started, as_json)
            return

        batch_dir = out_root / f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        with progress("Exporting records", to_send,
                      disabled=no_progress or as_json) as advance:
            exported = write_batch_files(iter_record_chunks(database, name=relation), batch_dir,
                                         max_bytes=max_bytes, on_records=advance)
        if not as_json:
            _heading("export")
            click.echo(f"{exported.records:,} records in {len(exported.files)} files, "
                       f"{exported.bytes:,} bytes, in {batch_dir}")

        stats = ValidationStats()
        for shown, problem in enumerate(validate_files(batch_files_in(batch_dir), stats)):
            if shown < _PROBLEMS_SHOWN:
                click.echo(f"{problem.file}:{problem.line} {problem.reference_id}: "
                           f"{problem.message}", err=True)
        if not as_json:
            _heading("validate")
            click.echo(f"{stats.files} files, {stats.records:,} records, "
                       f"{stats.problems} problems")
        if stats.problems:
            click.echo(f"cdp-loader: {stats.problems} problems in the batch files; nothing "
                       f"was shipped (see `cdp-loader validate {batch_dir}`)", err=True)
            raise SystemExit(EXIT_REJECTED)

        client = BatchApiClient(settings.base_url, settings.credentials,
                                deadline=Deadline(timeout), backoff_base=min(0.25, poll_interval))
        remember_latest_ship(batch_dir)
        # Recorded even when shipping stops half-way: finished batches are in CDP. A
        # rehearsal is not recorded: the real CDP did not receive it.
        with (contextlib.nullcontext(None) if use_sandbox
              else record_state_after_ship(batch_dir, database)) as state:
            report = ship_directory(batch_dir, client, poll_interval=poll_interval,
                                    progress=None if no_progress or as_json else
                                    lambda file, message: click.echo(f"{file}: {message}",
                                                                     err=True))
    if as_json:
        click.echo(json.dumps({
            "scope": "daily" if daily else "full",
            "mart": counts.to_dict(),
            "delta": delta.to_dict() if delta is not None else None,
            "export": {"folder": str(batch_dir), "files": len(exported.files),
                       "records": exported.records, "bytes": exported.bytes},
            "validate": {"problems": stats.problems},
            "ship": report.to_dict(),
            "state": state.counts.to_dict() if state else None,
            "sandbox": use_sandbox,
            "elapsed_seconds": round(time.monotonic() - started, 3),
        }))
    else:
        _heading("ship" + (" (to the local sandbox)" if use_sandbox else ""))
        click.echo(summary_line(report))
        _heading("shipped state (cdp.cdp_shipped_orders)")
        click.echo(state.counts.line() if state else
                   "not recorded: a rehearsal against the local sandbox")
        click.echo(f"\ndone in {time.monotonic() - started:.1f}s")
    if report.exit_code:
        click.echo(f"cdp-loader: {report.rejected} records rejected; see "
                   f"{batch_dir / 'rejects.ndjson'}", err=True)
    raise SystemExit(report.exit_code)


def _report_nothing_to_send(mart: dict[str, object], delta: DeltaSummary, use_sandbox: bool,
                            started: float, as_json: bool) -> None:
    """The report of a daily run whose delta is empty: no folder, nothing shipped."""
    if as_json:
        click.echo(json.dumps({
            "scope": "daily", "mart": mart, "delta": delta.to_dict(), "export": None,
            "validate": None, "ship": None, "state": None, "sandbox": use_sandbox,
            "elapsed_seconds": round(time.monotonic() - started, 3),
        }))
        return
    _heading("ship")
    click.echo("nothing changed since the last ship: nothing to send")
    click.echo(f"\ndone in {time.monotonic() - started:.1f}s")
