"""HTTP side of the sandbox: routes, Basic auth, signed URLs, faults and response shapes.

CDP-host endpoints (spec §2.4-§2.8) take Basic auth; the pre-signed upload and error-log
URLs refuse it, to prove that a client does not leak credentials to storage. The
`/sandbox/...` endpoints are the sandbox's own, for tests and rehearsals, not part of CDP.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from cdp_loader.sandbox.batches import (
    FILE_UPLOADED,
    MAX_FILE_BYTES,
    PROCESSING,
    STATUSES,
    AllocationConflict,
    AlreadyUploaded,
    Batch,
    BatchStore,
)
from cdp_loader.sandbox.faults import FaultPlan, RequestFault
from cdp_loader.sandbox.orders import OrderStore, parse_timestamp
from cdp_loader.sandbox.signing import UrlSigner

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$", re.I)
MAX_JSON_BODY = 64 * 1024
DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000


@dataclass
class SandboxContext:
    """Everything the request handlers share."""

    batches: BatchStore
    orders: OrderStore
    faults: FaultPlan
    signer: UrlSigner
    client_key: str
    api_token: str
    base_url: str = ""
    log_url_seconds: float = 3600.0
    log_stream: TextIO | None = None


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    kind: str | None  # the fault kind; None for the sandbox's own endpoints
    basic_auth: bool
    action: str


def _route(method: str, pattern: str, kind: str | None, action: str, auth: bool = True) -> _Route:
    return _Route(method, re.compile(pattern), kind, auth, action)


# First match wins, so `inspect` comes before `{batchRef}`.
ROUTES = (
    _route("PUT", r"^/v2/batches/(?P<ref>[^/]+)$", "allocate", "allocate"),
    _route("GET", r"^/v2/batches/inspect$", "list", "list"),
    _route("GET", r"^/v2/batches/inspect/(?P<ref>[^/]+)$", "status", "inspect"),
    _route("GET", r"^/v2/batches/(?P<ref>[^/]+)$", "status", "status"),
    _route("PUT", r"^/upload/(?P<ref>[^/]+)$", "upload", "upload", auth=False),
    _route("GET", r"^/logs/(?P<ref>[^/]+)\.gz$", "log", "log_download", auth=False),
    _route("GET", r"^/sandbox/(?P<what>received|orders|history|batches)$", None, "sandbox"),
)


class SandboxHandler(BaseHTTPRequestHandler):
    """One request to the sandbox; the shared state is `server.context`."""

    protocol_version = "HTTP/1.1"
    server_version = "cdp-sandbox"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection must not pin a thread for ever

    def do_GET(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    @property
    def context(self) -> SandboxContext:
        return self.server.context  # type: ignore[attr-defined]

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        route, match = _find_route(url.path, self.command)
        if route is None:
            self._drain()
            status = 405 if match else 404
            self._send_json(status, {"status": status, "message": "no such endpoint"})
            return
        if route.kind is not None:
            fault = self.context.faults.take_request_fault(route.kind)
            if fault is not None:
                self._answer_fault(fault, route.kind)
                return
        if route.basic_auth and not self._authorised():
            self._drain()
            self._send_json(401, {"status": 401, "message": "Unauthorized"},
                            {"WWW-Authenticate": 'Basic realm="cdp-sandbox"'})
            return
        handler: Callable[[dict[str, str], str], None] = getattr(self, f"_{route.action}")
        handler(match.groupdict(), url.query)  # type: ignore[union-attr]

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        key_ok = hmac.compare_digest(user.encode(), self.context.client_key.encode())
        token_ok = hmac.compare_digest(password.encode(), self.context.api_token.encode())
        return key_ok and token_ok

    def _answer_fault(self, fault: RequestFault, kind: str) -> None:
        if fault.status is None:
            self._drop_connection()
            return
        self._drain()
        headers = {}
        if fault.status == 429:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        message = "Too Many Requests" if fault.status == 429 else "Server error"
        message += " (sandbox fault)"
        if kind in ("upload", "log"):
            code = "SlowDown" if fault.status == 429 else "InternalError"
            self._send_xml(fault.status, code, message, headers)
        else:
            self._send_json(fault.status, {"status": fault.status, "message": message}, headers)

    def _drop_connection(self) -> None:
        # Read part of the body, then hang up without a word, as a broken network would.
        length = self._content_length() or 0
        self.rfile.read(length // 2)
        self.close_connection = True
        self._log(f"{self.command} {urlsplit(self.path).path} dropped (sandbox fault)")

    # -- CDP host ---------------------------------------------------------------------------

    def _allocate(self, params: dict[str, str], query: str) -> None:
        body = self._read_body(MAX_JSON_BODY)
        if body is None:
            return
        ref = params["ref"].lower()
        problem = _allocation_problem(ref, body)
        if problem is not None:
            self._send_json(400, {"status": 400, "message": problem})
            return
        request = json.loads(body)
        try:
            batch, created = self.context.batches.allocate(
                ref, request["checksum"].lower(), request["size"]
            )
        except AllocationConflict:
            self._send_json(409, {"status": 409, "message": (
                "batchRef already allocated with another checksum or size")})
            return
        self._send_json(201 if created else 200, self._batch_document(batch, inspect=False))

    def _status(self, params: dict[str, str], query: str) -> None:
        self._send_batch(params["ref"], inspect=False)

    def _inspect(self, params: dict[str, str], query: str) -> None:
        self._send_batch(params["ref"], inspect=True)

    def _send_batch(self, ref: str, inspect: bool) -> None:
        batch = self.context.batches.get(ref.lower())
        if batch is None:
            self._send_json(404, {"status": 404, "message": "batch not found"})
            return
        self._send_json(200, self._batch_document(batch, inspect=inspect))

    def _list(self, params: dict[str, str], query: str) -> None:
        try:
            selection = _ListQuery.parse(query)
        except ValueError as exc:
            self._send_json(400, {"status": 400, "message": str(exc)})
            return
        chosen = [batch for batch in self.context.batches.all() if selection.keeps(batch)]
        chosen.sort(key=lambda batch: batch.sequence, reverse=True)  # newest first
        page = chosen[selection.offset: selection.offset + selection.limit]
        self._send_json(200, {
            "totalCount": len(chosen),
            "offset": selection.offset,
            "limit": selection.limit,
            "items": [self._list_item(batch) for batch in page],
        })

    def _list_item(self, batch: Batch) -> dict[str, Any]:
        item: dict[str, Any] = {
            "href": f"{self.context.base_url}/v2/batches/inspect/{batch.ref}",
            "ref": batch.ref,
            "status": batch.status,
            "createdAt": _iso(batch.created_at),
            "modifiedAt": _iso(batch.modified_at),
        }
        if batch.log is not None:
            item["log"] = self._log_url(batch.ref)
        return item

    def _batch_document(self, batch: Batch, inspect: bool) -> dict[str, Any]:
        base = self.context.base_url
        code = batch.status
        if code == FILE_UPLOADED and not inspect:
            code = PROCESSING  # only the inspect endpoints report file_uploaded
        status: dict[str, Any] = {"code": code}
        if batch.log is not None:
            status["log"] = self._log_url(batch.ref)
        if batch.stats is not None:
            status["stats"] = dict(batch.stats)
        upload_path = f"/upload/{batch.ref}"
        upload_query = self.context.signer.query("PUT", upload_path, batch.upload_expires)
        inspect_part = "inspect/" if inspect else ""
        return {
            "href": f"{base}/v2/batches/{inspect_part}{batch.ref}",
            "ref": batch.ref,
            "checksum": batch.checksum,
            "size": batch.size,
            "location": {
                "href": f"{base}{upload_path}?{upload_query}",
                "expiry": _iso(datetime.fromtimestamp(batch.upload_expires, tz=UTC)),
            },
            "status": status,
            "createdAt": _iso(batch.created_at),
            "modifiedAt": _iso(batch.modified_at),
        }

    def _log_url(self, ref: str) -> str:
        path = f"/logs/{ref}.gz"
        expires = int(self.context.batches.clock() + self.context.log_url_seconds)
        return f"{self.context.base_url}{path}?{self.context.signer.query('GET', path, expires)}"

    # -- storage side (pre-signed URLs, no Basic auth) ---------------------------------------

    def _upload(self, params: dict[str, str], query: str) -> None:
        length = self._content_length()
        if length is None:
            self.close_connection = True
            self._send_xml(411, "MissingContentLength", "Content-Length is required")
            return
        if length > MAX_FILE_BYTES * 2:
            self.close_connection = True
            self._send_xml(400, "EntityTooLarge", "the file is larger than allowed")
            return
        body = self.rfile.read(length)
        if not self._storage_request_allowed(query):
            return
        if self.headers.get("x-amz-server-side-encryption") != "AES256":
            self._send_xml(400, "InvalidArgument",
                           "x-amz-server-side-encryption: AES256 is required")
            return
        digest_problem = _content_md5_problem(self.headers.get("Content-Md5"), body)
        if digest_problem is not None:
            self._send_xml(400, *digest_problem)
            return
        ref = params["ref"]
        if self.context.batches.get(ref) is None:
            self._send_xml(404, "NoSuchUpload", "no batch allocated for this URL")
            return
        try:
            self.context.batches.receive_upload(ref, body)
        except AlreadyUploaded:
            self._send_xml(409, "BatchAlreadyUploaded", "this batch already has another file")
            return
        self._send_bytes(200, b"", "application/octet-stream")

    def _log(self, message: str) -> None:
        if self.context.log_stream is not None:
            self.context.log_stream.write(f"sandbox: {message}\n")
            self.context.log_stream.flush()

    def _storage_request_allowed(self, query: str) -> bool:
        """Refuse Basic auth and bad or expired signatures; answers the request if refused."""
        if "Authorization" in self.headers:
            self._send_xml(400, "InvalidArgument",
                           "Only one auth mechanism allowed: drop the Authorization header")
            return False
        refusal = self.context.signer.check(self.command, urlsplit(self.path).path, query)
        if refusal == "expired":
            self._send_xml(403, "AccessDenied", "Request has expired")
            return False
        if refusal is not None:
            self._send_xml(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match")
            return False
        return True

    def _log_download(self, params: dict[str, str], query: str) -> None:
        self._drain()
        if not self._storage_request_allowed(query):
            return
        batch = self.context.batches.get(params["ref"])
        if batch is None or batch.log is None:
            self._send_xml(404, "NoSuchKey", "The specified key does not exist.")
            return
        self._send_bytes(200, batch.log, "application/gzip")

    # -- the sandbox's own endpoints (not part of CDP) ---------------------------------------

    def _sandbox(self, params: dict[str, str], query: str) -> None:
        what = params["what"]
        if what == "received":
            payload: Any = self.context.batches.received()
        elif what == "orders":
            payload = self.context.orders.orders()
        elif what == "history":
            payload = self.context.orders.history()
        else:
            payload = {batch.ref: batch.status for batch in self.context.batches.all()}
        self._send_json(200, payload)

    # -- plumbing ---------------------------------------------------------------------------

    def _content_length(self) -> int | None:
        text = self.headers.get("Content-Length")
        return int(text) if text is not None and text.isdigit() else None

    def _read_body(self, limit: int) -> bytes | None:
        """The request body; answers 400/411 itself and returns None when it cannot."""
        length = self._content_length()
        if length is None and self.command == "PUT":
            self.close_connection = True
            self._send_json(411, {"status": 411, "message": "Content-Length is required"})
            return None
        if (length or 0) > limit:
            self.close_connection = True
            self._send_json(400, {"status": 400, "message": "request body too large"})
            return None
        return self.rfile.read(length or 0)

    def _drain(self) -> None:
        length = self._content_length()
        if length is None or length > MAX_FILE_BYTES * 2:
            if length is not None:
                self.close_connection = True
            return
        self.rfile.read(length)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self._send_bytes(status, body, "application/json", headers)

    def _send_xml(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ).encode()
        self._send_bytes(status, body, "application/xml", headers)

    def _send_bytes(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The query string of a signed URL is a secret: log the path only.
        self._log(f"{self.command} {urlsplit(self.path).path} {code}")

    def log_message(self, format: str, *args: Any) -> None:
        # http.server's own messages can quote the raw request line (a signed URL): drop them.
        return


def _find_route(path: str, method: str) -> tuple[_Route | None, re.Match[str] | None]:
    path_matched = None
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is None:
            continue
        if route.method == method:
            return route, match
        path_matched = match
    return None, path_matched


def _allocation_problem(ref: str, body: bytes) -> str | None:
    if not _UUID.match(ref):
        return "batchRef must be a UUID"
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "the body must be JSON {\"checksum\": hex MD5, \"size\": bytes}"
    if not isinstance(request, dict):
        return "the body must be a JSON object"
    checksum, size = request.get("checksum"), request.get("size")
    if not isinstance(checksum, str) or not _MD5_HEX.match(checksum):
        return "checksum must be the hex MD5 of the file (32 hex digits)"
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        return "size must be a positive integer"
    if size > MAX_FILE_BYTES:
        return f"size must not exceed {MAX_FILE_BYTES} bytes"
    return None


def _content_md5_problem(header: str | None, body: bytes) -> tuple[str, str] | None:
    if header is None:
        return "InvalidDigest", "Content-MD5 is required"
    try:
        claimed = base64.b64decode(header, validate=True)
    except binascii.Error:
        return "InvalidDigest", "The Content-MD5 you specified was invalid."
    if len(claimed) != 16:
        return "InvalidDigest", "The Content-MD5 you specified was invalid."
    if claimed != hashlib.md5(body).digest():
        return "BadDigest", "The Content-MD5 you specified did not match what we received."
    return None


@dataclass(frozen=True)
class _ListQuery:
    statuses: frozenset[str] | None
    limit: int
    offset: int
    created_before: datetime | None
    created_after: datetime | None

    @classmethod
    def parse(cls, query: str) -> _ListQuery:
        """Read status, limit, offset, createdBefore and createdAfter; ValueError if bad."""
        fields = {name: values[-1] for name, values in parse_qs(query).items()}
        statuses = None
        if fields.get("status"):
            statuses = frozenset(code.strip() for code in fields["status"].split(","))
            unknown = sorted(statuses - set(STATUSES))
            if unknown:
                raise ValueError(f"unknown status {', '.join(unknown)}")
        return cls(
            statuses,
            _bounded_int(fields, "limit", DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT),
            _bounded_int(fields, "offset", 0, 0, None),
            _moment(fields, "createdBefore"),
            _moment(fields, "createdAfter"),
        )

    def keeps(self, batch: Batch) -> bool:
        """Whether the batch passes every filter."""
        if self.statuses is not None and batch.status not in self.statuses:
            return False
        if self.created_before is not None and batch.created_at >= self.created_before:
            return False
        return self.created_after is None or batch.created_at > self.created_after


def _bounded_int(
    fields: dict[str, str], name: str, default: int, low: int, high: int | None
) -> int:
    text = fields.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a whole number {limit}")
    return int(text)


def _moment(fields: dict[str, str], name: str) -> datetime | None:
    if name not in fields:
        return None
    moment = parse_timestamp(fields[name])
    if moment is None:
        raise ValueError(f"{name} must be an ISO 8601 date-time with Z or an offset")
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )
