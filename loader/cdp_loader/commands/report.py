"""`cdp-loader report`: the latest build and the history as one HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from cdp_loader.commands.ship import target_option
from cdp_loader.errors import EXIT_STATUS_HELP
from cdp_loader.report import write_report
from cdp_loader.warehouse import resolve_target


@click.command("report", epilog=EXIT_STATUS_HELP)
@click.option(
    "--database",
    envvar="CDP_DUCKDB_PATH",
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DuckDB warehouse built by dbt (read-only).",
)
@target_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cdp-report.html"),
    show_default=True,
    help="The HTML file to write (0600, replaced whole).",
)
def report(database: Path | None, target: str | None, out: Path) -> None:
    """Write one self-contained HTML report of the warehouse to OUT.

    Where every order of the latest build went, the quarantine by reason,
    the history of builds and quarantine reasons, and each ship run's
    records, rejects by code, sizes and durations: charts drawn as inline
    SVG, each with a table of its numbers. Nothing is fetched when it opens.

    \b
    Example:
        cdp-loader report --database data/warehouse.duckdb --out report.html
        CDP_DBT_TARGET=postgres cdp-loader report
    """
    click.echo(str(write_report(resolve_target(target, database=database), out)))
