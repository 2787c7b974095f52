"""Errors the loader reports as one line on stderr, and the exit statuses of every command."""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
# 130 and 143 (interrupted) live in `interrupts`, beside the signals they stand for.

EXIT_STATUS_HELP = """\b
Exit status (every command):
  0    everything asked for succeeded
  1    records were rejected, a batch ended in error, or validation found problems
  2    usage, configuration or connection failure (nothing half-done is claimed)
  3    internal error: a bug; rerun with `cdp-loader --debug ...` for the traceback
  130  interrupted by SIGINT (Ctrl-C); run the same command again to resume
  143  interrupted by SIGTERM; run the same command again to resume"""


class LoaderError(click.ClickException):
    """A failure the user can act on: printed as one line, exit status 2.

    The message must never contain a secret or personal data: name orders by
    referenceId and order_id, and settings by their name, not their value.
    """

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        click.echo(f"cdp-loader: {self.format_message()}", err=True)
