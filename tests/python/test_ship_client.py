"""BatchApiClient over real loopback HTTP: headers, auth scope, retries, error log parsing."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cdp_loader.api_client import (
    ApiError,
    BatchApiClient,
    Deadline,
    DeadlineExceeded,
    FileDigest,
    LogEntry,
    parse_error_log,
    redact_url,
    retry_after_seconds,
)
from cdp_loader.errors import LoaderError
from cdp_loader.settings import Credentials
from cdp_loader.shipper import WITHHELD_MESSAGE, safe_message

KEY, TOKEN = "ck-test-key", "tok-SECRET-abc"


class RecordingServer:
    """A loopback HTTP server answering from a script and recording every request."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers), "body": body})
                status, headers, payload = (outer.script.pop(0) if outer.script
                                            else (200, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


def make_client(base_url: str, seconds: float = 10.0) -> BatchApiClient:
    return BatchApiClient(base_url, Credentials(KEY, TOKEN), deadline=Deadline(seconds),
                          backoff_base=0.001, backoff_cap=0.01)


def test_allocate_sends_basic_auth_and_checksum_and_size(server: RecordingServer) -> None:
    answer = {"ref": "r1", "location": {"href": f"{server.url}/up?Signature=s",
                                        "expiry": "2030-01-01T00:00:00.000Z"},
              "status": {"code": "uploading"}}
    server.script.append((201, {"Content-Type": "application/json"},
                          json.dumps(answer).encode()))
    digest = FileDigest.of(b"abc")
    allocation = make_client(server.url).allocate("r1", digest)
    request = server.requests[0]
    assert (request["method"], request["path"]) == ("PUT", "/v2/batches/r1")
    assert request["headers"]["Authorization"] == "Basic Y2stdGVzdC1rZXk6dG9rLVNFQ1JFVC1hYmM="
    assert json.loads(request["body"]) == {"checksum": "900150983cd24fb0d6963f7d28e17f72",
                                           "size": 3}
    assert allocation.location_expiry == "2030-01-01T00:00:00.000Z"
    assert allocation.status_code == "uploading"


def test_upload_has_storage_headers_and_no_authorization(server: RecordingServer) -> None:
    body = gzip.compress(b'{"x":1}\n')
    digest = FileDigest.of(body)
    make_client(server.url).upload(f"{server.url}/bucket/f.gz?Signature=zz", body, digest, "f")
    request = server.requests[0]
    assert (request["method"], request["path"]) == ("PUT", "/bucket/f.gz?Signature=zz")
    assert "Authorization" not in request["headers"]
    assert request["headers"]["x-amz-server-side-encryption"] == "AES256"
    assert request["headers"]["Content-Md5"] == digest.content_md5
    assert len(digest.content_md5) == 24
    assert request["headers"]["Content-Type"] == "application/gzip"
    assert request["body"] == body


def test_redirect_from_cdp_host_is_not_followed(server: RecordingServer) -> None:
    with RecordingServer(host="127.0.0.2") as elsewhere:
        server.script.append((307, {"Location": f"{elsewhere.url}/steal"}, b""))
        with pytest.raises(ApiError) as caught:
            make_client(server.url).status("r1")
        assert elsewhere.requests == []
    assert caught.value.message == (f"status of batch r1: HTTP 307 from {server.url}"
                                    "/v2/batches/r1 (redirects are not followed)")


def test_credentials_are_never_sent_to_another_host(server: RecordingServer) -> None:
    client = make_client(server.url)
    with pytest.raises(ApiError, match="refusing to send credentials"):
        client._send("GET", "http://127.0.0.2:1/x", "probe", auth=(KEY, TOKEN))


def test_retries_5xx_and_429_then_succeeds(server: RecordingServer) -> None:
    server.script += [(503, {}, b""), (429, {"Retry-After": "0"}, b""), (500, {}, b""),
                      (200, {}, b'{"status": {"code": "success"}}')]
    assert make_client(server.url).status("r1") == {"status": {"code": "success"}}
    assert len(server.requests) == 4


def test_4xx_is_not_retried_and_message_hides_secrets(server: RecordingServer) -> None:
    server.script.append((403, {}, b"denied"))
    with pytest.raises(ApiError) as caught:
        make_client(server.url).upload(f"{server.url}/b?Signature=SIG123&Expires=9", b"x",
                                       FileDigest.of(b"x"), "f.gz")
    assert caught.value.status_code == 403
    assert caught.value.message == f"upload f.gz: HTTP 403 from {server.url}/b"
    assert len(server.requests) == 1


def test_retry_after_beyond_the_deadline_gives_up_at_once(server: RecordingServer) -> None:
    server.script.append((429, {"Retry-After": "120"}, b""))
    with pytest.raises(DeadlineExceeded) as caught:
        make_client(server.url, seconds=5).status("r1")
    assert caught.value.message == (f"gave up status of batch r1: HTTP 429 from {server.url}"
                                    "/v2/batches/r1: --timeout of 5s reached")
    assert len(server.requests) == 1


def test_connection_refused_is_retried_until_the_deadline() -> None:
    with RecordingServer() as gone:
        url = gone.url
    with pytest.raises(DeadlineExceeded, match=r"connection failed \(ConnectionError\)"):
        make_client(url, seconds=0.3).status("r1")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("0.25", now) == 0.25
    assert retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert [retry_after_seconds(v, now) for v in (None, "", "soon", "-3")] == [None] * 4


def test_error_log_plain_or_gzipped_with_string_or_int_codes() -> None:
    text = ('{"ref":"a","code":"400","message":"Validation error"}\n'
            '{"ref":"b","code":404,"message":"No order found"}\n'
            '\n{"ref":"c","code":"200","message":"ok"}\n')
    expected = [LogEntry("a", "400", "Validation error"),
                LogEntry("b", "404", "No order found"), LogEntry("c", "200", "ok")]
    assert parse_error_log(text.encode()) == expected
    assert parse_error_log(gzip.compress(text.encode())) == expected
    assert [entry.is_success for entry in expected] == [False, False, True]


def test_unreadable_error_log_line_is_a_loader_error() -> None:
    with pytest.raises(LoaderError, match="unreadable line 2"):
        parse_error_log(b'{"ref":"a","code":400}\nnot json\n')


def test_redact_url_drops_query_fragment_and_user_info() -> None:
    assert redact_url("https://u:p@bucket.s3.amazonaws.com:443/k/f.gz?X-Amz-Signature=abc#f") \
        == "https://bucket.s3.amazonaws.com:443/k/f.gz"


@pytest.mark.parametrize(("message", "kept"), [
    ("Validation error", "Validation error"),
    ("Validation error: email jane@example.com is invalid", "Validation error (details withheld)"),
    ("No order found for the provided referenceId and orderedAt attributes.",
     "No order found for the provided referenceId and orderedAt attributes."),
    ("Guest Jane Doe has an open session", WITHHELD_MESSAGE),
    ("", WITHHELD_MESSAGE),
])
def test_reject_messages_keep_only_documented_texts(message: str, kept: str) -> None:
    assert safe_message(message) == kept
