"""The `cdp-loader` command line: one command per module in `commands/`.

The commands parse options and print; the work lives in the other modules.
"""

from __future__ import annotations

import sys
import traceback

import click

from cdp_loader import __version__
from cdp_loader.commands import COMMANDS
from cdp_loader.errors import EXIT_INTERNAL, EXIT_STATUS_HELP
from cdp_loader.interrupts import EXIT_SIGINT, stop_on_signals


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_STATUS_HELP)
@click.version_option(__version__, prog_name="cdp-loader")
@click.option("--debug", is_flag=True,
              help="On an internal error, print the traceback (it may show local values).")
def cli(debug: bool) -> None:
    """Export a dbt-built CDP order mart to batch files and ship them to Sitecore CDP.

    \b
    Typical run:
        dbt build --profiles-dir profiles
        cdp-loader export --out batches/
        cdp-loader validate batches/
        cdp-loader ship batches/
    """
    _options["debug"] = debug


# Read by `main` after click has returned: the traceback is printed outside its context.
_options = {"debug": False}

for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    """Entry point: signals become exit 130/143, and no traceback (which could carry a
    secret) reaches the user unless asked for with --debug."""
    try:
        with stop_on_signals():
            # Not standalone: click would turn a Ctrl-C into "Aborted!" and exit 1.
            status = cli.main(standalone_mode=False)
    except click.ClickException as exc:  # LoaderError and Interrupted among them
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("cdp-loader: aborted", err=True)
        sys.exit(EXIT_SIGINT)
    except Exception as exc:
        if _options["debug"]:
            traceback.print_exc()
        click.echo(f"cdp-loader: internal error ({type(exc).__name__}); rerun with "
                   "`cdp-loader --debug ...` for the traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
