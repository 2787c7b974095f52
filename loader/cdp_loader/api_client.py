"""A small client for the Sitecore CDP Batch API (spec §2): allocate, upload, status, error log.

Safety rules this module keeps:

* Basic auth is attached per request, and only to requests for the CDP host;
  the session has no global auth, and CDP calls never follow redirects, so the
  `Authorization` header cannot travel to another host.
* The presigned upload and log URLs are secrets (their query string is the
  signature): every URL in an error message goes through `redact_url`.
* Retries only where a retry can help: 429 and 5xx answers (honouring
  Retry-After), connection failures and timeouts, with exponential backoff and
  full jitter, all bounded by one overall `Deadline`. Anything else (another
  4xx, an invalid URL or header, a TLS certificate that does not verify) fails
  at once with its reason.
* Every wait watches `interrupts.STOP`, so a signal ends a run within moments.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from cdp_loader.errors import LoaderError
from cdp_loader.interrupts import STOP, raise_if_stopped
from cdp_loader.settings import Credentials

# A retry can help: the server is busy or briefly unwell. 501 Not Implemented is not that.
RETRYABLE_STATUS = frozenset({429, *range(500, 600)}) - {501}
# Connection failures and timeouts may pass; a certificate that does not verify will not.
_RETRYABLE_FAILURES = (requests.ConnectionError, requests.Timeout,
                       requests.exceptions.ChunkedEncodingError)
_PERMANENT_FAILURES = (requests.exceptions.SSLError,)
TERMINAL_STATUSES = frozenset({"success", "error", "corrupted"})
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0


def redact_url(url: str) -> str:
    """The URL without query string, fragment or user info: safe to print."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<unparsable URL>"


class ApiError(LoaderError):
    """The Batch API answered with a final (non-retryable) failure."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class DeadlineExceeded(LoaderError):
    """The overall `--timeout` ran out while waiting on the API."""


class Deadline:
    """One overall time budget shared by every call of a run."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def sleep(self, seconds: float, doing: str) -> None:
        """Sleep, or raise DeadlineExceeded if the sleep would cross the deadline.

        A signal (`interrupts.STOP`) ends the sleep at once with `Interrupted`.
        """
        if seconds >= self.remaining():
            raise DeadlineExceeded(f"gave up {doing}: --timeout of {self.seconds:g}s reached")
        STOP.wait(max(0.0, seconds))
        raise_if_stopped()


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse Retry-After: delta seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        # RFC 9110 says whole seconds; fractions are accepted as a courtesy to test servers.
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if 0 <= seconds < float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class FileDigest:
    """What the allocate call and the upload headers need to know about a file."""

    checksum: str  # hex MD5 of the gzipped bytes
    content_md5: str  # base64 of the raw digest
    size: int

    @classmethod
    def of(cls, body: bytes) -> FileDigest:
        import hashlib

        digest = hashlib.md5(body).digest()
        return cls(digest.hex(), base64.b64encode(digest).decode("ascii"), len(body))


@dataclass(frozen=True)
class Allocation:
    """The answer to an allocate call. `location_href` is a secret: never print it."""

    batch_ref: str
    location_href: str
    location_expiry: str | None
    status_code: str


@dataclass(frozen=True)
class LogEntry:
    """One line of a batch error log."""

    ref: str | None  # None for a file-level error
    code: str | None  # as CDP wrote it, a JSON number or string: 400 and "400" read "400"
    message: str

    @property
    def is_success(self) -> bool:
        return self.code is not None and self.code.isdigit() and 200 <= int(self.code) < 300


def _parse_code(raw: Any) -> str | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    text = str(raw).strip()
    return text or None


def parse_error_log(body: bytes) -> list[LogEntry]:
    """Lines `{ref, code, message}`; gunzips first when the body starts with 1f 8b."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            raise LoaderError("the batch error log is not a readable gzip file") from None
    entries = []
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise LoaderError(f"the batch error log has an unreadable line {number}") from None
        if not isinstance(item, dict):
            raise LoaderError(f"the batch error log has an unreadable line {number}")
        ref = item.get("ref")
        entries.append(LogEntry(ref=ref if isinstance(ref, str) else None,
                                code=_parse_code(item.get("code")),
                                message=str(item.get("message") or "")))
    return entries


def _permanent_reason(exc: Exception) -> str:
    """Why a request could not be sent, in words that do not quote the URL or a header."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS failed (the certificate does not verify?)"
    if isinstance(exc, requests.exceptions.InvalidHeader | UnicodeError):
        return "a request header is invalid (check CDP_CLIENT_KEY and CDP_API_TOKEN)"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                  | requests.exceptions.InvalidSchema):
        return "the URL is invalid"
    return "the request could not be sent"


class BatchApiClient:
    """Talks to one CDP tenant's Batch API; safe to share between threads."""

    def __init__(self, base_url: str, credentials: Credentials, *, deadline: Deadline,
                 backoff_base: float = 0.25, backoff_cap: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self.deadline = deadline
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._local = threading.local()
        self._cdp_netloc = urlsplit(self.base_url).netloc.lower()

    def __repr__(self) -> str:
        return f"BatchApiClient({redact_url(self.base_url)!r})"

    # --- the four calls of spec §2 ------------------------------------------------

    def allocate(self, batch_ref: str, digest: FileDigest) -> Allocation:
        """PUT {base}/v2/batches/{ref} with {checksum, size}; returns the upload location."""
        response = self._cdp("PUT", f"/v2/batches/{batch_ref}", f"allocate batch {batch_ref}",
                             json={"checksum": digest.checksum, "size": digest.size})
        body = self._json(response, f"allocate batch {batch_ref}")
        location = body.get("location") or {}
        href = location.get("href")
        if not isinstance(href, str) or not href:
            raise ApiError(f"allocate batch {batch_ref}: answer has no location.href")
        return Allocation(batch_ref=batch_ref, location_href=href,
                          location_expiry=location.get("expiry"),
                          status_code=(body.get("status") or {}).get("code", "uploading"))

    def upload(self, location_href: str, body: bytes, digest: FileDigest, what: str) -> None:
        """PUT the gzip bytes to the presigned URL, without any CDP credentials."""
        self._send("PUT", location_href, f"upload {what}", auth=None, data=body,
                   headers={"x-amz-server-side-encryption": "AES256",
                            "Content-Md5": digest.content_md5,
                            "Content-Type": "application/gzip"})

    def status(self, batch_ref: str) -> dict[str, Any]:
        """GET {base}/v2/batches/{ref}: the batch document (its `status.code` drives us)."""
        what = f"status of batch {batch_ref}"
        return self._json(self._cdp("GET", f"/v2/batches/{batch_ref}", what), what)

    def inspect(self, batch_ref: str) -> dict[str, Any]:
        """GET {base}/v2/batches/inspect/{ref}: like status, and can say `file_uploaded`."""
        what = f"inspect batch {batch_ref}"
        return self._json(self._cdp("GET", f"/v2/batches/inspect/{batch_ref}", what), what)

    def fetch_error_log(self, log_url: str, batch_ref: str) -> list[LogEntry]:
        """GET the presigned error log (no auth) and parse its lines."""
        response = self._send("GET", log_url, f"error log of batch {batch_ref}", auth=None,
                              allow_redirects=True)
        return parse_error_log(response.content)

    # --- plumbing -------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _cdp(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        return self._send(method, f"{self.base_url}{path}", what,
                          auth=self._credentials.as_auth(),
                          headers={"Accept": "application/json"}, **kwargs)

    def _json(self, response: requests.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise ApiError(f"{what}: answer is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(f"{what}: answer is not a JSON object")
        return body

    def _send(self, method: str, url: str, what: str, *, auth: tuple[str, str] | None,
              allow_redirects: bool = False, **kwargs: Any) -> requests.Response:
        """One logical call with retries; raises ApiError/DeadlineExceeded, never leaks URLs."""
        if auth is not None and urlsplit(url).netloc.lower() != self._cdp_netloc:
            raise ApiError(f"{what}: refusing to send credentials to {redact_url(url)}")
        attempt = 0
        last_failure = ""
        while True:
            attempt += 1
            remaining = self.deadline.remaining()
            if remaining <= 0:
                raise DeadlineExceeded(f"gave up {what}{last_failure}: --timeout of "
                                       f"{self.deadline.seconds:g}s reached")
            timeout = (min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining))
            raise_if_stopped()
            try:
                response = self._session().request(
                    method, url, auth=auth, timeout=timeout,
                    allow_redirects=allow_redirects, **kwargs)
            except (requests.RequestException, ValueError) as exc:
                # The exception text can quote the URL with its signature: keep only the type.
                if isinstance(exc, _PERMANENT_FAILURES) \
                        or not isinstance(exc, _RETRYABLE_FAILURES):
                    raise ApiError(f"{what}: {_permanent_reason(exc)} "
                                   f"({type(exc).__name__}) for {redact_url(url)}") from None
                reason = f"connection failed ({type(exc).__name__}) to {redact_url(url)}"
                last_failure = f": {reason}"
                self.deadline.sleep(self._backoff(attempt), f"{what}{last_failure}")
                continue
            if response.status_code in RETRYABLE_STATUS:
                response.close()
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self._backoff(attempt)
                last_failure = f": HTTP {response.status_code} from {redact_url(url)}"
                self.deadline.sleep(wait, f"{what}{last_failure}")
                continue
            if 200 <= response.status_code < 300:
                return response
            raise ApiError(self._failure_message(what, url, response, auth is not None),
                           response.status_code)

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of many clients instead of synchronising them.
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    @staticmethod
    def _failure_message(what: str, url: str, response: requests.Response,
                         authenticated: bool) -> str:
        message = f"{what}: HTTP {response.status_code} from {redact_url(url)}"
        if response.status_code in (401, 403) and authenticated:
            message += " (check CDP_CLIENT_KEY and CDP_API_TOKEN)"
        if 300 <= response.status_code < 400:
            message += " (redirects are not followed)"
        return message
