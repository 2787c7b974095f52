"""`cdp-loader run`: the whole job, from dbt build to a report of what CDP took."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cdp_loader.batch_files import MAX_BATCH_BYTES, MIN_BATCH_BYTES
from cdp_loader.commands.rendering import failure_line, reject_lines, summary_line
from cdp_loader.commands.ship import (
    api_settings_options,
    remember_latest_ship,
    settings_from_options,
    target_option,
)
from cdp_loader.errors import EXIT_STATUS_HELP
from cdp_loader.pipeline import DEFAULT_TIMEOUT, RunOptions, RunReport, run_job
from cdp_loader.progress import progress
from cdp_loader.validate import ERROR


def _heading(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


class _TextReport:
    """Prints each stage of a run as it ends."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, stage: str, report: RunReport) -> None:
        if stage == "validate":
            # Problems go to stderr whatever the output format: they say why nothing shipped.
            for problem in report.problems:
                severity = "" if problem.severity == ERROR else f"{problem.severity}: "
                click.echo(f"{problem.file}:{problem.line} {problem.reference_id}: "
                           f"{severity}{problem.message}", err=True)
        if stage == "ship" and report.folder is not None:
            remember_latest_ship(report.folder)
        if self.quiet:
            return
        getattr(self, f"_{stage}")(report)

    def _build(self, _report: RunReport) -> None:
        click.echo("dbt build: every model built and every test passed")

    def _mart(self, report: RunReport) -> None:
        _heading("the mart")
        assert report.mart is not None
        for line in report.mart.lines():
            click.echo(line)

    def _delta(self, report: RunReport) -> None:
        _heading("the delta (what changed since the last ship)")
        assert report.delta is not None
        for line in report.delta.lines():
            click.echo(line)

    def _export(self, report: RunReport) -> None:
        assert report.export is not None
        _heading("export")
        click.echo(f"{report.export.records:,} records in {len(report.export.files)} files, "
                   f"{report.export.bytes:,} bytes, in {report.folder}")

    def _validate(self, report: RunReport) -> None:
        assert report.validation is not None
        _heading("validate")
        stats = report.validation
        click.echo(f"{stats.files} files, {stats.records:,} records, {stats.problems} problems"
                   + (f", {stats.warnings} warnings" if stats.warnings else ""))

    def _ship(self, report: RunReport) -> None:
        assert report.ship is not None
        _heading("ship" + (" (to the local sandbox)" if report.sandbox else ""))
        click.echo(summary_line(report.ship))
        for line in reject_lines(report.ship):
            click.echo(line)
        _heading("shipped state (cdp.cdp_shipped_orders)")
        click.echo(report.state.line() if report.state else
                   "not recorded: a rehearsal against the local sandbox")

    def _report(self, report: RunReport) -> None:
        _heading("report")
        click.echo(f"written to {report.html_report}")


@click.command("run", epilog=EXIT_STATUS_HELP)
@click.option("--out", "out_root", default=Path("batches"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder that receives one batch folder per run (run-<UTC time>).")
@click.option("--database", envvar="CDP_DUCKDB_PATH", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The DuckDB warehouse: raw tables in, the CDP mart out (the duckdb target).")
@target_option
@click.option("--project-dir", default=Path("."), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The dbt project (with its profiles/ folder).")
@click.option("--skip-dbt", is_flag=True, help="Ship the mart as it is, without `dbt build`.")
@click.option("--daily", is_flag=True,
              help="Send only what changed since the last ship (cdp.cdp_batch_records_delta).")
@click.option("--allow-stale-sources", is_flag=True,
              help="With --daily: go on although no raw row is newer than the last ship.")
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
def run(out_root: Path, database: Path | None, target: str | None, project_dir: Path,
        skip_dbt: bool, daily: bool, allow_stale_sources: bool, full_refresh: bool,
        use_sandbox: bool,
        base_url: str | None, region: str | None,
        client_key: str | None, api_token: str | None, max_bytes: int, timeout: float,
        poll_interval: float, as_json: bool, no_progress: bool) -> None:
    """Build the mart, export it, validate the files and ship them: the whole job.

    Runs `dbt build` (without the daily delta, unless --daily), prints where
    every current order went (shipped, deleted, excluded, quarantined by
    reason), exports cdp.cdp_batch_records into a new folder OUT/run-<UTC
    time>, validates every file and ships the folder, records what CDP now
    holds in cdp.cdp_shipped_orders (not for a --sandbox rehearsal), then
    prints what CDP took and lists the rejected records. Exit status as for
    `ship`; 1 also when validation finds a problem (nothing is shipped then).

    With --daily only the day's changes leave (cdp.cdp_batch_records_delta):
    new and changed orders, deletes not yet shipped, records rejected last
    time, and the delete of what CDP holds for an order that moved; the report
    counts them and the unchanged orders skipped. An empty delta ships nothing.
    A night whose raw tables hold no version newer than the last ship (the
    replication did not run) stops with status 2 before anything is exported,
    unless --allow-stale-sources.
    Without it (or with --full-refresh) every order is sent: the backfill.

    The warehouse is the dbt target's (--target / CDP_DBT_TARGET: duckdb with
    --database, postgres or spark, as profiles/profiles.yml and its
    environment variables say): dbt builds there, the loader reads the mart
    and records the shipped state there.

    The same job is a function for schedulers: `cdp_loader.pipeline.run_job`.

    \b
    Examples:
        cdp-loader run --sandbox                # a rehearsal on this machine
        CDP_BASE_URL=https://api-engage-eu.sitecorecloud.io \\
        CDP_CLIENT_KEY=... CDP_API_TOKEN=... cdp-loader run           # backfill
        cdp-loader run --daily                  # every night after that
        CDP_DBT_TARGET=postgres cdp-loader run --daily   # on PostgreSQL
    """
    if daily and full_refresh:
        raise click.UsageError("--daily and --full-refresh exclude each other")
    if allow_stale_sources and not daily:
        raise click.UsageError("--allow-stale-sources goes with --daily")
    settings = None if use_sandbox else settings_from_options(base_url, region, client_key,
                                                              api_token)
    options = RunOptions(database=database, target=target, out_root=out_root,
                         project_dir=project_dir, settings=settings, daily=daily,
                         allow_stale_sources=allow_stale_sources, skip_dbt=skip_dbt,
                         sandbox=use_sandbox,
                         max_bytes=max_bytes, timeout=timeout, poll_interval=poll_interval)

    def bar(label: str, total: int):
        return progress(label, total, disabled=no_progress or as_json)

    report = run_job(options, on_stage=_TextReport(quiet=as_json),
                     progress=None if no_progress or as_json else
                     lambda file, message: click.echo(f"{file}: {message}", err=True),
                     bar=bar)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        if report.nothing_to_send:
            _heading("ship")
            click.echo("nothing changed since the last ship: nothing to send")
        click.echo(f"\ndone in {report.elapsed_seconds:.1f}s")
    if report.validation is not None and report.validation.problems:
        click.echo(f"cdp-loader: {report.validation.problems} problems in the batch files; "
                   f"nothing was shipped (see `cdp-loader validate {report.folder}`)", err=True)
    elif report.ship is not None and report.ship.exit_code:
        click.echo(failure_line(report.ship), err=True)
    raise SystemExit(report.exit_code)
