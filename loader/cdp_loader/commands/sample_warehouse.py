"""`cdp-loader sample-warehouse`: fill the raw tables with generated travel-retail data."""

from __future__ import annotations

from pathlib import Path

import click
import duckdb

from cdp_loader import sample_warehouse as generator
from cdp_loader.errors import EXIT_STATUS_HELP, LoaderError


@click.command("sample-warehouse", epilog=EXIT_STATUS_HELP)
@click.option("--orders", type=int, default=10000, show_default=True,
              help="Bulk orders to generate (0 or more), besides the fixed showcase orders.")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Seed of the pseudo-randomness: same seed and size, same data.")
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path),
              envvar="CDP_DUCKDB_PATH", show_envvar=True, required=True,
              help="The DuckDB warehouse file (created with its folders if missing).")
def sample_warehouse(orders: int, seed: int, database: Path) -> None:
    """Replace the raw warehouse tables with a generated sample.

    Drops and recreates the tables of schema `raw` (nothing else), fills them
    with the showcase orders (ids below 1000, one per dirty case) and ORDERS
    generated orders, and prints the row count of each table.

    \b
    Example:
        cdp-loader sample-warehouse --orders 100000 --seed 7 --database warehouse.duckdb
    """
    if orders < 0:
        raise LoaderError(f"--orders must be 0 or more, not {orders}")
    try:
        counts = generator.generate(database, orders, seed)
    except (duckdb.Error, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LoaderError(f"cannot write the sample warehouse {database}: {reason}") from exc
    for table, count in counts.items():
        click.echo(f"raw.{table}: {count}")
