"""The `cdp-loader` command line: one command per module in `commands/`.

The commands parse options and print; the work lives in the other modules.
"""

from __future__ import annotations

import sys

import click

from cdp_loader import __version__
from cdp_loader.commands import COMMANDS
from cdp_loader.errors import EXIT_USAGE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdp-loader")
def cli() -> None:
    """Export a dbt-built CDP order mart to batch files and ship them to Sitecore CDP.

    \b
    Typical run:
        dbt build --profiles-dir profiles
        cdp-loader export --out batches/
        cdp-loader validate batches/*.json.gz
        cdp-loader ship batches/
    """


for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    """Entry point: never let a traceback (which could carry a secret) reach the user."""
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:
        click.echo(f"cdp-loader: unexpected {type(exc).__name__}; rerun with a smaller case "
                   "and report it", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
