"""Errors the loader reports as one line on stderr, with a meaningful exit code."""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


class LoaderError(click.ClickException):
    """A failure the user can act on: printed as one line, exit status 2.

    The message must never contain a secret or personal data: name orders by
    referenceId and order_id, and settings by their name, not their value.
    """

    exit_code = EXIT_USAGE

    def show(self, file=None) -> None:
        click.echo(f"cdp-loader: {self.format_message()}", err=True)
