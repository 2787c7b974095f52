"""`cdp-loader report`: the latest build and the history as one HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from cdp_loader.errors import EXIT_STATUS_HELP, LoaderError
from cdp_loader.report import write_report


@click.command("report", epilog=EXIT_STATUS_HELP)
@click.option(
    "--database",
    envvar="CDP_DUCKDB_PATH",
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The DuckDB warehouse built by dbt (read-only).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cdp-report.html"),
    show_default=True,
    help="The HTML file to write (0600, replaced whole).",
)
def report(database: Path | None, out: Path) -> None:
    """Write one self-contained HTML report of the warehouse to OUT.

    Where every order of the latest build went, the quarantine by reason,
    the history of builds and quarantine reasons, and each ship run's
    records, rejects by code, sizes and durations: charts drawn as inline
    SVG, each with a table of its numbers. Nothing is fetched when it opens.

    \b
    Example:
        cdp-loader report --database data/warehouse.duckdb --out report.html
    """
    if database is None:
        raise LoaderError("no warehouse: give --database or set CDP_DUCKDB_PATH")
    click.echo(str(write_report(database, out)))
