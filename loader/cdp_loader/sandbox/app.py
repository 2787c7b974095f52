"""The sandbox as an object: start the HTTP server on loopback, look inside, stop cleanly."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, TextIO

from cdp_loader.sandbox.batches import BatchStore
from cdp_loader.sandbox.faults import FaultPlan
from cdp_loader.sandbox.handler import SandboxContext, SandboxHandler
from cdp_loader.sandbox.orders import OrderStore
from cdp_loader.sandbox.signing import UrlSigner

DEFAULT_CLIENT_KEY = "sandbox-key"
DEFAULT_API_TOKEN = "sandbox-token"
DEFAULT_HOST = "127.0.0.1"


class NotLoopback(ValueError):
    """The sandbox only listens on loopback addresses."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    context: SandboxContext

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that goes away mid-answer (a loader stopped by Ctrl-C) is not the
        # sandbox's error: no traceback for it on the sandbox's console.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


def is_loopback(host: str) -> bool:
    """True for localhost and the 127.0.0.0/8 and ::1 addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Sandbox:
    """A local Sitecore CDP Batch API on loopback, serving from a background thread.

    >>> with Sandbox(faults=FaultPlan.parse("429@upload=0")) as sb:  # doctest: +SKIP
    ...     requests.put(f"{sb.base_url}/v2/batches/{ref}", auth=(sb.client_key, sb.api_token))
    """

    def __init__(
        self,
        faults: FaultPlan | str | None = None,
        processing_seconds: float = 0.0,
        client_key: str = DEFAULT_CLIENT_KEY,
        api_token: str = DEFAULT_API_TOKEN,
        host: str = DEFAULT_HOST,
        port: int = 0,
        url_expiry_seconds: float = 3600.0,
        log_stream: TextIO | None = None,
    ) -> None:
        if not is_loopback(host):
            raise NotLoopback(f"the sandbox listens on loopback only, not {host}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.client_key = client_key
        self.api_token = api_token
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults)
        self._orders = OrderStore()
        self._batches = BatchStore(
            self.faults, self._orders, processing_seconds, url_expiry_seconds
        )
        self._context = SandboxContext(
            self._batches, self._orders, self.faults, UrlSigner(), client_key, api_token,
            log_url_seconds=url_expiry_seconds, log_stream=log_stream,
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`: the value for CDP_BASE_URL."""
        return self._context.base_url

    def start(self) -> Sandbox:
        """Bind the port (OSError when taken) and serve from a background thread."""
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, self.port), SandboxHandler)
        self._server.context = self._context
        self.port = self._server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._context.base_url = f"http://{host}:{self.port}"
        self._batches.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="sandbox-http", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and processing; safe to call twice."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._batches.stop()

    def serve_until_interrupted(self) -> None:
        """Block until Ctrl-C (SIGINT) or SIGTERM, then stop cleanly.

        The signals set an event rather than raise KeyboardInterrupt wherever
        the main thread happens to be: once in a CI run the sandbox never
        stopped after a Ctrl-C that came while it waited.
        """
        stopped = threading.Event()
        previous = {number: signal.signal(number, lambda *_: stopped.set())
                    for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopped.wait(timeout=0.5):
                pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- looking inside (the same data as the /sandbox/... endpoints) -----------------------

    def received(self) -> list[dict[str, Any]]:
        """Every record processed, accepted or rejected, in arrival order (/sandbox/received)."""
        return self._batches.received()

    def orders(self) -> list[dict[str, Any]]:
        """The current order store (/sandbox/orders)."""
        return self._orders.orders()

    def history(self) -> list[dict[str, Any]]:
        """Every change to the order store, in order (/sandbox/history)."""
        return self._orders.history()

    def batches(self) -> dict[str, str]:
        """batchRef -> status code, file_uploaded included (/sandbox/batches)."""
        return {batch.ref: batch.status for batch in self._batches.all()}

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every uploaded batch reached a final status; False on timeout."""
        return self._batches.wait_until_idle(timeout)

    @contextmanager
    def hold_processing(self) -> Iterator[None]:
        """Keep uploaded batches in `file_uploaded` until the block ends."""
        with self._batches.hold_processing():
            yield
