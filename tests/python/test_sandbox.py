"""The Batch API sandbox, driven over real HTTP on loopback with `requests`."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from cdp_loader.commands.sandbox import sandbox as sandbox_command
from cdp_loader.sandbox import FaultPlan, FaultSpecError, Sandbox

KEY, TOKEN = "test-key", "test-token"
T0 = "2025-03-07T16:15:11.000Z"
T0_PLUS_24H = "2025-03-08T16:15:11.000Z"
T0_PLUS_24H_1S = "2025-03-08T16:15:12.000Z"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# -- building batch files -------------------------------------------------------------------


def order_value(reference_id: str, ordered_at: str, price: float = 59.9) -> dict[str, Any]:
    """A complete, valid order value (the spec's example, minus personal data)."""
    return {
        "referenceId": reference_id, "channel": "WEB", "pointOfSale": "mystore.example",
        "status": "PURCHASED", "orderedAt": ordered_at, "currencyCode": "EUR", "price": price,
        "paymentType": "Card", "cardType": "Visa",
        "contact": {"identifiers": [{"provider": "CRM", "id": "C-778"}]},
        "orderItems": [{
            "type": "OTHER", "productId": "SKU-1", "name": "Trail Shoe",
            "description": "Trail Shoe Blue 42", "vendor": "Acme",
            "referenceId": f"{reference_id}-1", "status": "PURCHASED", "price": price,
            "currencyCode": "EUR", "quantity": 1,
        }],
    }


def insert(reference_id: str, ordered_at: str = T0, price: float = 59.9) -> dict[str, Any]:
    return {"ref": str(uuid.uuid4()), "schema": "order", "mode": "insert",
            "value": order_value(reference_id, ordered_at, price)}


def delete(reference_id: str, ordered_at: str = T0) -> dict[str, Any]:
    return {"ref": str(uuid.uuid4()), "schema": "order", "mode": "delete",
            "value": {"referenceId": reference_id, "orderedAt": ordered_at}}


def batch_file(records: list[Any]) -> bytes:
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]
    return gzip.compress(b"".join(line + b"\n" for line in lines), mtime=0)


def digests(data: bytes) -> tuple[str, str]:
    """(hex MD5 for allocate, base64 MD5 for Content-Md5)."""
    digest = hashlib.md5(data).digest()
    return digest.hex(), base64.b64encode(digest).decode()


# -- talking to the sandbox -----------------------------------------------------------------


class Client:
    """The calls a shipper makes, with nothing hidden."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.auth = (sb.client_key, sb.api_token)

    def allocate(self, data: bytes, ref: str | None = None, **body: Any) -> requests.Response:
        checksum, _ = digests(data)
        payload = {"checksum": checksum, "size": len(data), **body}
        return requests.put(f"{self.sb.base_url}/v2/batches/{ref or uuid.uuid4()}",
                            json=payload, auth=self.auth, timeout=10)

    def upload(self, location: str, data: bytes, **headers: str) -> requests.Response:
        _, content_md5 = digests(data)
        sent = {"x-amz-server-side-encryption": "AES256", "Content-Md5": content_md5,
                "Content-Type": "application/gzip", **headers}
        return requests.put(location, data=data,
                            headers={k: v for k, v in sent.items() if v}, timeout=10)

    def status(self, ref: str, inspect: bool = False) -> requests.Response:
        part = "inspect/" if inspect else ""
        return requests.get(f"{self.sb.base_url}/v2/batches/{part}{ref}", auth=self.auth,
                            timeout=10)

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(f"{self.sb.base_url}{path}", params=params, auth=self.auth,
                            timeout=10)

    def ship(self, records: list[Any]) -> dict[str, Any]:
        """Allocate, upload, poll to a final status; the last status document."""
        data = batch_file(records)
        allocation = self.allocate(data)
        assert allocation.status_code == 201
        assert self.upload(allocation.json()["location"]["href"], data).status_code == 200
        return self.poll(allocation.json()["ref"])

    def poll(self, ref: str) -> dict[str, Any]:
        for _ in range(200):
            document = self.status(ref).json()
            if document["status"]["code"] in ("success", "error", "corrupted"):
                return document
            self.sb.wait_until_idle(timeout=0.05)
        raise AssertionError(f"batch {ref} never reached a final status")

    def error_log(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        response = requests.get(document["status"]["log"], timeout=10)
        assert response.status_code == 200
        assert response.content[:2] == b"\x1f\x8b"
        return [json.loads(line) for line in gzip.decompress(response.content).splitlines()]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(processing_seconds=0.0, client_key=KEY, api_token=TOKEN) as running:
        yield running


@pytest.fixture
def client(sb: Sandbox) -> Client:
    return Client(sb)


def reference_ids(sb: Sandbox) -> list[tuple[str, str]]:
    return [(order["referenceId"], order["orderedAt"]) for order in sb.orders()]


# -- the happy path -------------------------------------------------------------------------


def test_allocate_upload_poll_success_and_the_orders_land(client: Client, sb: Sandbox) -> None:
    records = [insert("ORD-1"), insert("ORD-2", "2025-03-09T10:00:00.000Z")]
    data = batch_file(records)
    ref = str(uuid.uuid4())
    checksum, _ = digests(data)

    allocation = client.allocate(data, ref=ref)

    assert allocation.status_code == 201
    body = allocation.json()
    assert set(body) == {"href", "ref", "checksum", "size", "location", "status",
                         "createdAt", "modifiedAt"}
    assert body["href"] == f"{sb.base_url}/v2/batches/{ref}"
    assert (body["ref"], body["checksum"], body["size"]) == (ref, checksum, len(data))
    assert body["status"] == {"code": "uploading"}
    signed = rf"^{re.escape(sb.base_url)}/upload/{ref}\?Expires=\d+&Signature=[0-9a-f]{{64}}$"
    assert re.match(signed, body["location"]["href"])
    assert ISO_MS.match(body["location"]["expiry"]) and ISO_MS.match(body["createdAt"])

    uploaded = client.upload(body["location"]["href"], data)
    assert (uploaded.status_code, uploaded.content) == (200, b"")

    final = client.poll(ref)
    assert final["status"]["code"] == "success"
    assert "log" not in final["status"]
    stats = final["status"]["stats"]
    assert (stats["totalRecords"], stats["successfulRecords"], stats["failedRecords"]) == (2, 2, 0)

    orders = client.get("/sandbox/orders").json()
    assert [(o["referenceId"], o["orderedAt"], o["value"]) for o in orders] == [
        ("ORD-1", T0, records[0]["value"]),
        ("ORD-2", "2025-03-09T10:00:00.000Z", records[1]["value"]),
    ]
    received = client.get("/sandbox/received").json()
    assert [(r["batchRef"], r["ref"], r["mode"], r["referenceId"], r["orderedAt"], r["code"])
            for r in received] == [
        (ref, records[0]["ref"], "insert", "ORD-1", T0, 200),
        (ref, records[1]["ref"], "insert", "ORD-2", "2025-03-09T10:00:00.000Z", 200),
    ]
    assert received == sb.received()
    assert sb.batches() == {ref: "success"}


def test_allocating_again_alike_is_idempotent_and_otherwise_409(client: Client) -> None:
    data, other = batch_file([insert("ORD-1")]), batch_file([insert("ORD-2")])
    ref = str(uuid.uuid4())
    first = client.allocate(data, ref=ref)
    again = client.allocate(data, ref=ref)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert client.allocate(other, ref=ref).status_code == 409
    assert client.allocate(data, ref=ref, size=len(data) + 1).status_code == 409


@pytest.mark.parametrize(("ref", "body"), [
    ("not-a-uuid", {"checksum": "a" * 32, "size": 10}),
    (None, {"checksum": "a" * 31, "size": 10}),
    (None, {"checksum": "g" * 32, "size": 10}),
    (None, {"checksum": "a" * 32, "size": 0}),
    (None, {"checksum": "a" * 32, "size": "10"}),
    (None, {"checksum": "a" * 32, "size": True}),
    (None, {"checksum": "a" * 32, "size": 50_000_001}),
    (None, {"size": 10}),
    (None, ["a" * 32, 10]),
])
def test_allocate_refuses_a_malformed_request_with_400(sb: Sandbox, ref: str | None,
                                                      body: Any) -> None:
    response = requests.put(f"{sb.base_url}/v2/batches/{ref or uuid.uuid4()}", json=body,
                            auth=(KEY, TOKEN), timeout=10)
    assert response.status_code == 400
    assert sb.batches() == {}


def test_status_of_an_unknown_batch_is_404(client: Client) -> None:
    assert client.status(str(uuid.uuid4())).status_code == 404
    assert client.status(str(uuid.uuid4()), inspect=True).status_code == 404


# -- credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, (KEY, "wrong"), ("wrong", TOKEN), (KEY, "")])
@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/v2/batches/12af3453-62da-4b31-b646-631b7b5f3009"),
    ("GET", "/v2/batches/12af3453-62da-4b31-b646-631b7b5f3009"),
    ("GET", "/v2/batches/inspect/12af3453-62da-4b31-b646-631b7b5f3009"),
    ("GET", "/v2/batches/inspect"),
    ("GET", "/sandbox/received"),
    ("GET", "/sandbox/orders"),
])
def test_cdp_endpoints_answer_401_without_the_right_credentials(
    sb: Sandbox, auth: tuple[str, str] | None, method: str, path: str
) -> None:
    response = requests.request(method, f"{sb.base_url}{path}", auth=auth,
                                json={"checksum": "a" * 32, "size": 10}, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert sb.batches() == {}


def test_upload_carrying_an_authorization_header_is_refused(client: Client, sb: Sandbox) -> None:
    data = batch_file([insert("ORD-1")])
    allocation = client.allocate(data).json()
    response = requests.put(allocation["location"]["href"], data=data, auth=(KEY, TOKEN),
                            headers={"x-amz-server-side-encryption": "AES256",
                                     "Content-Md5": digests(data)[1]}, timeout=10)
    assert response.status_code == 400
    assert "<Code>InvalidArgument</Code>" in response.text
    assert sb.batches() == {allocation["ref"]: "uploading"}


def test_error_log_download_refuses_an_authorization_header(client: Client) -> None:
    document = client.ship([delete("ORD-404")])
    assert requests.get(document["status"]["log"], auth=(KEY, TOKEN), timeout=10).status_code \
        == 400
    assert requests.get(document["status"]["log"], timeout=10).status_code == 200


# -- upload checks --------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "code"), [
    ({"Content-Md5": base64.b64encode(hashlib.md5(b"other").digest()).decode()}, "BadDigest"),
    ({"Content-Md5": hashlib.md5(b"other").hexdigest()}, "InvalidDigest"),
    ({"Content-Md5": ""}, "InvalidDigest"),
    ({"x-amz-server-side-encryption": ""}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aws:kms"}, "InvalidArgument"),
])
def test_upload_without_the_right_headers_is_400(
    client: Client, sb: Sandbox, headers: dict[str, str], code: str
) -> None:
    data = batch_file([insert("ORD-1")])
    allocation = client.allocate(data).json()
    response = client.upload(allocation["location"]["href"], data, **headers)
    assert response.status_code == 400
    assert f"<Code>{code}</Code>" in response.text
    assert sb.batches() == {allocation["ref"]: "uploading"}


@pytest.mark.parametrize("mismatch", ["md5", "size"])
def test_upload_differing_from_the_allocation_is_corrupted(
    client: Client, sb: Sandbox, mismatch: str
) -> None:
    data = batch_file([insert("ORD-1")])
    sent = data[:-1] + bytes([data[-1] ^ 1]) if mismatch == "md5" else data + b"\0"
    allocation = client.allocate(data).json()
    response = client.upload(allocation["location"]["href"], sent)
    assert response.status_code == 200
    assert client.status(allocation["ref"]).json()["status"] == {"code": "corrupted"}
    assert sb.orders() == [] and sb.received() == []


def test_upload_with_a_tampered_signature_is_403(client: Client, sb: Sandbox) -> None:
    data = batch_file([insert("ORD-1")])
    location = client.allocate(data).json()["location"]["href"]
    tampered = location[:-1] + ("0" if location[-1] != "0" else "1")
    response = client.upload(tampered, data)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text
    expiry_moved = re.sub(r"Expires=\d+", "Expires=9999999999", location)
    assert client.upload(expiry_moved, data).status_code == 403


def test_same_file_uploaded_twice_is_accepted_once(client: Client, sb: Sandbox) -> None:
    data = batch_file([insert("ORD-1")])
    allocation = client.allocate(data).json()
    assert client.upload(allocation["location"]["href"], data).status_code == 200
    sb.wait_until_idle()
    assert client.upload(allocation["location"]["href"], data).status_code == 200
    sb.wait_until_idle()
    assert len(sb.received()) == 1


# -- processing and the error log -----------------------------------------------------------


def test_error_log_lists_each_failed_record_with_ref_code_and_message() -> None:
    with Sandbox(faults="reject=ORD-2", client_key=KEY, api_token=TOKEN) as sb:
        client = Client(sb)
        invalid = insert("ORD-3")
        del invalid["value"]["channel"]
        merge = {**insert("ORD-4"), "mode": "merge"}
        records = [insert("ORD-1"), insert("ORD-2"), invalid, merge, b"{not json", delete("ORD-9")]

        document = client.ship(records)

        assert document["status"]["code"] == "error"
        stats = document["status"]["stats"]
        assert (stats["totalRecords"], stats["successfulRecords"], stats["failedRecords"]) == (
            6, 1, 5)
        log = client.error_log(document)
        assert log[0] == {"ref": records[1]["ref"], "code": "400",
                          "message": "Validation error: rejected by the sandbox fault plan"}
        assert log[1]["ref"] == invalid["ref"] and log[1]["code"] == "400"
        assert log[1]["message"].startswith("Validation error: ")
        assert "channel" in log[1]["message"]
        assert log[2:] == [
            {"ref": merge["ref"], "code": "402", "message": "Unsupported mode"},
            {"ref": None, "code": "400",
             "message": "Validation error: the line is not a JSON object"},
            {"ref": records[5]["ref"], "code": "404",
             "message": "No order found for the provided referenceId and orderedAt attributes"},
        ]
        assert reference_ids(sb) == [("ORD-1", T0)]
        assert [r["code"] for r in sb.received()] == [200, 400, 400, 402, 400, 404]


@pytest.mark.parametrize("payload", [
    json.dumps(insert("ORD-1")).encode() + b"\n",  # not gzip at all
    gzip.compress(b"{}\n") + gzip.compress(b"{}\n"),  # two gzip members
    gzip.compress(json.dumps(insert("ORD-1")).encode() + b"\n")[:-4],  # truncated
])
def test_a_file_that_is_not_one_gzip_member_is_an_error_without_log(
    client: Client, sb: Sandbox, payload: bytes
) -> None:
    allocation = client.allocate(payload).json()
    assert client.upload(allocation["location"]["href"], payload).status_code == 200
    final = client.poll(allocation["ref"])
    assert final["status"]["code"] == "error"
    assert "log" not in final["status"]
    assert sb.received() == [] and sb.orders() == []


def test_delete_removes_the_order_and_a_second_delete_is_404(client: Client, sb: Sandbox) -> None:
    assert client.ship([insert("ORD-1"), insert("ORD-2")])["status"]["code"] == "success"
    assert client.ship([delete("ORD-1")])["status"]["code"] == "success"
    assert reference_ids(sb) == [("ORD-2", T0)]
    again = client.ship([delete("ORD-1")])
    assert again["status"]["code"] == "error"
    assert [line["code"] for line in client.error_log(again)] == ["404"]
    assert [entry["action"] for entry in sb.history()] == ["created", "created", "deleted"]


def test_insert_exactly_24_hours_apart_replaces_the_order(client: Client, sb: Sandbox) -> None:
    client.ship([insert("ORD-1", T0, price=10.0)])
    client.ship([insert("ORD-1", T0_PLUS_24H, price=20.0)])
    orders = sb.orders()
    assert [(o["referenceId"], o["orderedAt"], o["value"]["price"]) for o in orders] == [
        ("ORD-1", T0_PLUS_24H, 20.0)]
    assert [entry["action"] for entry in sb.history()] == ["created", "replaced"]


def test_insert_24_hours_and_a_second_apart_is_another_order(client: Client, sb: Sandbox) -> None:
    client.ship([insert("ORD-1", T0), insert("ORD-1", T0_PLUS_24H_1S)])
    assert reference_ids(sb) == [("ORD-1", T0), ("ORD-1", T0_PLUS_24H_1S)]


def test_delete_matches_within_24_hours_inclusive(client: Client, sb: Sandbox) -> None:
    client.ship([insert("ORD-1", T0), insert("ORD-2", T0)])
    outcome = client.ship([delete("ORD-1", T0_PLUS_24H), delete("ORD-2", T0_PLUS_24H_1S)])
    assert [line["code"] for line in client.error_log(outcome)] == ["404"]
    assert reference_ids(sb) == [("ORD-2", T0)]


def test_delete_matching_two_orders_asks_for_the_order_ref(client: Client, sb: Sandbox) -> None:
    client.ship([insert("ORD-1", T0), insert("ORD-1", "2025-03-08T22:15:11.000Z")])
    outcome = client.ship([delete("ORD-1", "2025-03-08T07:15:11.000Z")])
    assert [(line["code"], line["message"]) for line in client.error_log(outcome)] == [
        ("400", "More than one order exists with that referenceId within 24 hours of orderedAt, "
                "please supply the orderRef of the order you wish to delete")]
    assert len(sb.orders()) == 2


def test_one_keep_alive_session_survives_errors_and_faults(sb: Sandbox) -> None:
    sb.faults.add("429@upload=0,500@allocate")
    data = batch_file([insert("ORD-1")])
    checksum, content_md5 = digests(data)
    ref = str(uuid.uuid4())
    with requests.Session() as session:
        allocate_url = f"{sb.base_url}/v2/batches/{ref}"
        body = {"checksum": checksum, "size": len(data)}
        assert session.put(allocate_url, json=body, auth=(KEY, TOKEN), timeout=10).status_code \
            == 500
        assert session.put(allocate_url, json=body, timeout=10).status_code == 401
        location = session.put(allocate_url, json=body, auth=(KEY, TOKEN),
                               timeout=10).json()["location"]["href"]
        headers = {"x-amz-server-side-encryption": "AES256", "Content-Md5": content_md5}
        assert session.put(location, data=data, headers=headers, timeout=10).status_code == 429
        assert session.put(location, data=data, headers=headers, timeout=10).status_code == 200
        sb.wait_until_idle()
        status = session.get(allocate_url, auth=(KEY, TOKEN), timeout=10).json()
    assert status["status"]["code"] == "success"


# -- status, inspect and the list -----------------------------------------------------------


def test_file_uploaded_shows_only_on_inspect(client: Client, sb: Sandbox) -> None:
    data = batch_file([insert("ORD-1")])
    allocation = client.allocate(data).json()
    with sb.hold_processing():
        client.upload(allocation["location"]["href"], data)
        assert client.status(allocation["ref"], inspect=True).json()["status"] == {
            "code": "file_uploaded"}
        plain = client.status(allocation["ref"]).json()
        assert plain["status"] == {"code": "processing"}
        assert sb.batches() == {allocation["ref"]: "file_uploaded"}
    assert client.poll(allocation["ref"])["status"]["code"] == "success"
    inspected = client.status(allocation["ref"], inspect=True).json()
    assert inspected["href"] == f"{sb.base_url}/v2/batches/inspect/{allocation['ref']}"


def test_inspect_list_filters_by_status_and_pages(client: Client, sb: Sandbox) -> None:
    ok_1 = client.ship([insert("ORD-1")])["ref"]
    failed = client.ship([delete("ORD-404")])["ref"]
    ok_2 = client.ship([insert("ORD-2")])["ref"]
    waiting = client.allocate(batch_file([insert("ORD-3")])).json()["ref"]

    everything = client.get("/v2/batches/inspect").json()
    assert (everything["totalCount"], everything["offset"], everything["limit"]) == (4, 0, 100)
    assert [item["ref"] for item in everything["items"]] == [waiting, ok_2, failed, ok_1]
    assert [item["status"] for item in everything["items"]] == [
        "uploading", "success", "error", "success"]
    assert set(everything["items"][0]) == {"href", "ref", "status", "createdAt", "modifiedAt"}
    assert everything["items"][0]["href"] == f"{sb.base_url}/v2/batches/inspect/{waiting}"
    assert "log" in everything["items"][2]

    finished = client.get("/v2/batches/inspect", status="success,error", limit=2).json()
    assert (finished["totalCount"], finished["limit"]) == (3, 2)
    assert [item["ref"] for item in finished["items"]] == [ok_2, failed]
    second_page = client.get("/v2/batches/inspect", status="success,error", limit=2, offset=2)
    assert [item["ref"] for item in second_page.json()["items"]] == [ok_1]
    errors = client.get("/v2/batches/inspect", status="error").json()
    assert [item["ref"] for item in errors["items"]] == [failed]


@pytest.mark.parametrize("params", [{"status": "done"}, {"limit": "0"}, {"limit": "x"},
                                    {"offset": "-1"}, {"createdBefore": "yesterday"}])
def test_inspect_list_refuses_bad_parameters(client: Client, params: dict[str, str]) -> None:
    assert client.get("/v2/batches/inspect", **params).status_code == 400


# -- faults ---------------------------------------------------------------------------------


def test_429_carries_retry_after_and_is_consumed_once() -> None:
    with Sandbox(faults=FaultPlan.parse("429@allocate=0.5"), client_key=KEY,
                 api_token=TOKEN) as sb:
        client = Client(sb)
        data = batch_file([insert("ORD-1")])
        limited = client.allocate(data)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "0.5"
        assert sb.batches() == {}
        assert client.allocate(data).status_code == 201
        assert str(sb.faults) == ""


def test_request_faults_apply_to_their_kind_in_the_order_given(sb: Sandbox,
                                                               client: Client) -> None:
    sb.faults.add("429x2@upload=0,503@upload,502@status,500@log,500@list")
    data = batch_file([delete("ORD-404")])
    allocation = client.allocate(data)
    assert allocation.status_code == 201  # upload faults leave allocations alone
    location = allocation.json()["location"]["href"]
    answers = [client.upload(location, data) for _ in range(4)]
    assert [r.status_code for r in answers] == [429, 429, 503, 200]
    assert answers[0].headers["Retry-After"] == "0"
    sb.wait_until_idle()
    ref = allocation.json()["ref"]
    assert client.status(ref).status_code == 502
    document = client.status(ref).json()
    assert requests.get(document["status"]["log"], timeout=10).status_code == 500
    assert requests.get(document["status"]["log"], timeout=10).status_code == 200
    assert client.get("/v2/batches/inspect").status_code == 500
    assert client.get("/v2/batches/inspect").status_code == 200
    assert client.get("/sandbox/received").status_code == 200  # never faulted


def test_fault_without_kind_hits_the_next_request_of_any_kind(sb: Sandbox, client: Client) -> None:
    sb.faults.add("503x2")
    assert client.get("/v2/batches/inspect").status_code == 503
    assert client.allocate(batch_file([insert("ORD-1")])).status_code == 503
    assert client.allocate(batch_file([insert("ORD-1")])).status_code == 201


def test_dropped_upload_closes_without_answer_then_a_retry_succeeds(
    sb: Sandbox, client: Client
) -> None:
    sb.faults.add("drop")
    data = batch_file([insert(f"ORD-{n}") for n in range(50)])
    allocation = client.allocate(data).json()
    with pytest.raises(requests.ConnectionError):
        client.upload(allocation["location"]["href"], data)
    assert sb.batches() == {allocation["ref"]: "uploading"}
    assert client.upload(allocation["location"]["href"], data).status_code == 200
    assert client.poll(allocation["ref"])["status"]["code"] == "success"
    assert len(sb.orders()) == 50


def test_expired_fault_hands_out_an_expired_url_that_answers_403(
    sb: Sandbox, client: Client
) -> None:
    sb.faults.add("expired")
    data = batch_file([insert("ORD-1")])
    allocation = client.allocate(data).json()
    assert allocation["location"]["expiry"] < allocation["createdAt"]
    response = client.upload(allocation["location"]["href"], data)
    assert response.status_code == 403
    assert "<Message>Request has expired</Message>" in response.text
    assert sb.batches() == {allocation["ref"]: "uploading"}
    assert client.ship([insert("ORD-1")])["status"]["code"] == "success"


def test_url_expiry_is_configurable() -> None:
    with Sandbox(url_expiry_seconds=120, client_key=KEY, api_token=TOKEN) as sb:
        allocation = Client(sb).allocate(batch_file([insert("ORD-1")])).json()
    expiry = datetime.fromisoformat(allocation["location"]["expiry"])
    created = datetime.fromisoformat(allocation["createdAt"])
    # Expires is written in whole seconds, so up to one second is cut off.
    assert timedelta(seconds=119) <= expiry - created <= timedelta(seconds=120)


def test_corrupted_fault_marks_a_good_upload_corrupted(sb: Sandbox, client: Client) -> None:
    sb.faults.add("corrupted")
    assert client.ship([insert("ORD-1")])["status"] == {"code": "corrupted"}
    assert client.ship([insert("ORD-1")])["status"]["code"] == "success"


def test_slow_processing_keeps_the_batch_processing(sb: Sandbox, client: Client) -> None:
    sb.faults.add("slowx1=1")
    data = batch_file([insert("ORD-1")])
    allocation = client.allocate(data).json()
    client.upload(allocation["location"]["href"], data)
    assert client.status(allocation["ref"]).json()["status"] == {"code": "processing"}
    assert sb.wait_until_idle(timeout=10)
    final = client.status(allocation["ref"]).json()
    assert final["status"]["code"] == "success"
    assert str(sb.faults) == ""


def test_reject_every_kth_record(sb: Sandbox, client: Client) -> None:
    sb.faults.add("reject-every=2")
    records = [insert(f"ORD-{n}") for n in range(1, 6)]
    document = client.ship(records)
    assert [line["ref"] for line in client.error_log(document)] == [
        records[1]["ref"], records[3]["ref"]]
    assert [o["referenceId"] for o in sb.orders()] == ["ORD-1", "ORD-3", "ORD-5"]


# -- the fault grammar ----------------------------------------------------------------------


def test_fault_plan_reads_back_in_its_own_grammar() -> None:
    plan = FaultPlan.parse(["429x2@upload=0.5, 503", "drop,expiredx3"])
    plan.add("corrupted,slow=2,slowx1=0.25,reject=ORD-7,reject-every=10")
    assert str(plan) == ("429x2@upload=0.5,503x1,dropx1,expiredx3,corruptedx1,slowx1=0.25,"
                         "slow=2,reject=ORD-7,reject-every=10")
    assert str(FaultPlan.parse("429")) == "429x1=1"
    assert not FaultPlan.parse("")


@pytest.mark.parametrize("spec", [
    "418", "429x0", "429@nowhere", "429=-1", "429=soon", "500=3", "drop@upload", "dropx",
    "slow", "slow@upload=1", "reject", "reject-every=0", "reject-every=x", "rejectx2=ORD-1",
    "corrupted=1",
])
def test_fault_plan_refuses_a_malformed_spec(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        FaultPlan.parse(spec)


# -- the command ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--faults", "429x0"], ["--faults", "drop", "--faults", "42"]])
def test_command_refuses_a_bad_fault_spec_in_one_line(args: list[str]) -> None:
    result = CliRunner().invoke(sandbox_command, args)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("cdp-loader: --faults: ")


def test_command_refuses_a_non_loopback_host() -> None:
    result = CliRunner().invoke(sandbox_command, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert result.output == ("cdp-loader: --host 0.0.0.0 is not a loopback address; the sandbox "
                             "serves 127.0.0.1, ::1 or localhost only\n")


def test_command_serves_until_interrupted_and_never_prints_the_token(tmp_path: Any) -> None:
    env = {**os.environ, "CDP_CLIENT_KEY": "cmd-key", "CDP_API_TOKEN": "cmd-token-secret"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from cdp_loader.cli import main; main()", "sandbox", "--port",
         "0", "--faults", "503@status"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", banner)[0]  # type: ignore[index]
        assert process.stdout.readline() == f"export CDP_BASE_URL={base_url}\n"
        ref = str(uuid.uuid4())
        auth = ("cmd-key", "cmd-token-secret")
        assert requests.get(f"{base_url}/v2/batches/{ref}", auth=auth, timeout=10).status_code \
            == 503
        assert requests.get(f"{base_url}/v2/batches/{ref}", auth=auth, timeout=10).status_code \
            == 404
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "sandbox stopped" in stdout
    assert f"GET /v2/batches/{ref} 404" in stderr
    for secret in ("cmd-token-secret", "cmd-key", "Signature="):
        assert secret not in stdout + stderr + banner


def test_sandbox_stops_and_frees_its_port() -> None:
    with Sandbox() as sb:
        base_url = sb.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/v2/batches/inspect", timeout=5)
