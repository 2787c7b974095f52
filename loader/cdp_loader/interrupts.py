"""SIGINT and SIGTERM: stop at the next safe point, with an exit status that says so.

The ledger is written before every step, so the state on disk is consistent
wherever the process stops. What matters is that the stop is quick and is
told apart from bad data: the first signal raises `Interrupted` in the main
thread (exit 130 for SIGINT, 143 for SIGTERM, as a shell reports them) and
sets `STOP`, which every wait of the shipper's threads watches, so that they
end within moments; a second signal stops the process at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from cdp_loader.errors import LoaderError

EXIT_SIGINT = 130
EXIT_SIGTERM = 143
_EXIT_BY_SIGNAL = {signal.SIGINT: EXIT_SIGINT, signal.SIGTERM: EXIT_SIGTERM}

STOP = threading.Event()


class Interrupted(LoaderError):
    """The run was stopped by a signal; running the same command again resumes it."""

    def __init__(self, signal_number: int) -> None:
        name = signal.Signals(signal_number).name
        super().__init__(f"interrupted by {name}; what was done is kept: run the same "
                         "command again to resume")
        self.exit_code = _EXIT_BY_SIGNAL.get(signal_number, 128 + signal_number)
        self.signal_number = signal_number


def stopped() -> bool:
    return STOP.is_set()


def raise_if_stopped() -> None:
    """Between two steps: stop here if a signal came."""
    if STOP.is_set():
        raise Interrupted(_received[0] if _received else signal.SIGINT)


_received: list[int] = []


_deferring: list[bool] = []


def _on_signal(signal_number: int, _frame: FrameType | None) -> None:
    _received.append(signal_number)
    STOP.set()
    # A second signal takes the default action: the process ends at once.
    for number in _EXIT_BY_SIGNAL:
        signal.signal(number, signal.SIG_DFL)
    if not _deferring:
        raise Interrupted(signal_number)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a signal's `Interrupted` back until the block ends (main thread only).

    For steps that must not be cut in two, such as starting a child process:
    raised in the middle, the child would run on with nobody to stop it.
    """
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()
    raise_if_stopped()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `Interrupted` for the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _on_signal) for number in _EXIT_BY_SIGNAL}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
