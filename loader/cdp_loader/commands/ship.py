"""`cdp-loader ship DIR`: upload a batch folder to the CDP Batch API, resumably."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cdp_loader.api_client import BatchApiClient, Deadline
from cdp_loader.commands.rendering import failure_line, reject_lines, summary_line
from cdp_loader.errors import EXIT_STATUS_HELP, LoaderError
from cdp_loader.files import write_durably
from cdp_loader.pipeline import DEFAULT_TIMEOUT, ship_and_record
from cdp_loader.settings import (
    ENV_API_TOKEN,
    ENV_BASE_URL,
    ENV_CLIENT_KEY,
    REGION_HOSTS,
    Settings,
    resolve_settings,
)
from cdp_loader.warehouse import ENV_TARGET, Target, resolve_target

ENV_STATE_DIR = "CDP_LOADER_STATE_DIR"
LATEST_SHIP_NAME = "latest-ship"


def api_settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options naming the Batch API and the credentials (shared with `status`)."""
    options = [
        click.option("--base-url", envvar=ENV_BASE_URL, show_envvar=True, metavar="URL",
                     help="Batch API base URL (https://, or http:// on loopback only)."),
        click.option("--region", type=click.Choice(sorted(REGION_HOSTS)),
                     help="Use Sitecore's host for this region instead of --base-url."),
        click.option("--client-key", envvar=ENV_CLIENT_KEY, show_envvar=True, metavar="KEY",
                     help="CDP client key (Basic-auth user). Prefer the environment variable."),
        click.option("--api-token", envvar=ENV_API_TOKEN, show_envvar=True, metavar="TOKEN",
                     help="CDP API token (Basic-auth password). Prefer the environment variable."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def target_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--target / CDP_DBT_TARGET: the output of the dbt profile whose warehouse is read."""
    return click.option(
        "--target", envvar=ENV_TARGET, show_envvar=True, metavar="NAME",
        help="The dbt target (an output of profiles/profiles.yml) whose warehouse the loader "
             "reads and records into: duckdb (default, with --database), postgres, spark.",
    )(function)


def settings_from_options(base_url: str | None, region: str | None, client_key: str | None,
                          api_token: str | None) -> Settings:
    """Settings from parsed options; click already folded in the environment variables."""
    if region:
        base_url = None  # an explicit --region wins over CDP_BASE_URL from the environment
    return resolve_settings(base_url=base_url, region=region, client_key=client_key,
                            api_token=api_token, env={})


def state_dir() -> Path:
    """Where the loader remembers the latest ship: CDP_LOADER_STATE_DIR or XDG state."""
    if os.environ.get(ENV_STATE_DIR):
        return Path(os.environ[ENV_STATE_DIR])
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "cdp-loader"


def remember_latest_ship(directory: Path) -> None:
    """Record the folder so `cdp-loader status` can default to it; best effort."""
    try:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        write_durably(folder / LATEST_SHIP_NAME, f"{directory.resolve()}\n".encode())
    except OSError:
        click.echo("cdp-loader: could not remember this folder for `cdp-loader status`",
                   err=True)


def latest_ship() -> Path | None:
    """The folder of the latest ship, if one was recorded."""
    try:
        text = (state_dir() / LATEST_SHIP_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None


@click.command("ship", epilog=EXIT_STATUS_HELP)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@api_settings_options
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="Give up (exit 2, resumable) when the whole run takes longer than this.")
@click.option("--concurrency", type=click.IntRange(min=1), default=1, show_default=True,
              help="Batches in flight at once; CDP advises 1 (files with deletes ship alone).")
@click.option("--poll-interval", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True, metavar="SECONDS",
              help="First wait between status polls; grows by half each poll up to 120 s.")
@click.option("--database", envvar="CDP_DUCKDB_PATH", show_envvar=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The DuckDB warehouse whose cdp.cdp_shipped_orders records what was shipped.")
@target_option
@click.option("--record-state/--no-record-state", default=None,
              help="Record the finished batches in cdp.cdp_shipped_orders of the warehouse, so "
                   "the next `run --daily` knows what CDP holds. Default: when a warehouse is "
                   "given (--database, or a --target other than duckdb).")
@click.option("--wait", is_flag=True,
              help="If another process ships or exports DIRECTORY, wait for it to end "
                   "(default: exit 2 at once, naming it).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--no-progress", is_flag=True, help="Do not print progress lines on stderr.")
def ship(directory: Path, base_url: str | None, region: str | None, client_key: str | None,
         api_token: str | None, timeout: float, concurrency: int, poll_interval: float,
         database: Path | None, target: str | None, record_state: bool | None, wait: bool,
         as_json: bool, no_progress: bool) -> None:
    """Upload every batch file of DIRECTORY that has not reached a final status.

    Follows each batch to `success` or `error`, writes rejected records to
    DIRECTORY/rejects.ndjson by referenceId and order_id, and keeps
    DIRECTORY/ledger.json so that running it again after any interruption
    resumes without sending a finished batch twice.

    With a warehouse (--database or CDP_DUCKDB_PATH, or the dbt target
    --target / CDP_DBT_TARGET: postgres, spark) it then appends the
    records of every finished batch to cdp.cdp_shipped_orders (once each,
    however often it runs), as `cdp-loader run` does; --no-record-state
    skips that, e.g. for a folder exported from another warehouse.

    One ship per folder at a time: a second one exits 2 at once naming the
    first one's pid (or waits, with --wait). SIGINT or SIGTERM stops it
    within seconds (exit 130 or 143); run it again to resume.

    \b
    Example:
        CDP_BASE_URL=https://api-engage-eu.sitecorecloud.io \\
        CDP_CLIENT_KEY=... CDP_API_TOKEN=... cdp-loader ship batches/
    """
    settings = settings_from_options(base_url, region, client_key, api_token)
    if not directory.is_dir():
        raise LoaderError(f"{directory} is not a folder")
    knows_warehouse = database is not None or (target or "duckdb") != "duckdb"
    if record_state and not knows_warehouse:
        raise LoaderError("--record-state needs the warehouse: give --database or set "
                          "CDP_DUCKDB_PATH")
    warehouse: Target | None = None
    if record_state is not False and knows_warehouse:
        warehouse = resolve_target(target, database=database)
    client = BatchApiClient(settings.base_url, settings.credentials, deadline=Deadline(timeout),
                            backoff_base=min(0.25, poll_interval))
    remember_latest_ship(directory)

    def show_progress(file: str, message: str) -> None:
        click.echo(f"{file}: {message}", err=True)

    outcome = ship_and_record(directory, client, database=warehouse,
                              concurrency=concurrency, poll_interval=poll_interval, wait=wait,
                              progress=None if no_progress else show_progress)
    report, state = outcome.report, outcome.state
    if as_json:
        document = report.to_dict()
        document["state"] = state.to_dict() if state else None
        click.echo(json.dumps(document, indent=1))
    lines = [summary_line(report), *reject_lines(report)]
    if state:
        lines.append(f"shipped state: {state.line()}")
    for line in lines:
        click.echo(line, err=as_json)
    if report.exit_code:
        click.echo(failure_line(report), err=True)
    raise SystemExit(report.exit_code)
