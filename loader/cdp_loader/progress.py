"""A progress bar on standard error when it is a terminal; nothing otherwise.

It shows counts only: labels are fixed texts chosen by the caller, never data,
so a secret or a personal value cannot reach the screen through it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

Advance = Callable[[int], None]


def _ignore(_steps: int) -> None:
    return None


def progress_wanted(disabled: bool) -> bool:
    """A bar only helps a person watching a terminal; logs and pipes get none."""
    return not disabled and sys.stderr.isatty()


@contextmanager
def progress(label: str, total: int | None, disabled: bool = False) -> Iterator[Advance]:
    """Yield `advance(n)`; draw a bar of `total` steps on a terminal unless `disabled`."""
    if not progress_wanted(disabled):
        yield _ignore
        return
    with click.progressbar(
        length=total, label=label, file=click.get_text_stream("stderr"), show_pos=True
    ) as bar:
        yield bar.update
