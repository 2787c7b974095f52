"""Helpers for the ship tests: batch folders written by the real writer, ledger watching."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdp_loader.batch_files import write_batch_files
from cdp_loader.records import BatchRecord
from cdp_loader.sandbox import Sandbox

CLIENT_KEY = "ck-test-4711-key"
API_TOKEN = "tok-SECRET-test-9f8e7d6c"
REF_NAMESPACE = uuid.UUID("6f1f7a8c-3b1e-4d7e-9a55-1d2c3b4a5e6f")


def order_ref(reference_id: str, mode: str) -> str:
    """A stable UUID v5 per (referenceId, mode), like the real export's refs."""
    return str(uuid.uuid5(REF_NAMESPACE, f"{mode}:{reference_id}"))


def insert_value(reference_id: str, noise: str) -> dict[str, Any]:
    """A valid order for insert; `noise` makes each line poorly compressible."""
    return {
        "referenceId": reference_id, "channel": "WEB", "pointOfSale": "mystore.example",
        "status": "PURCHASED", "orderedAt": "2025-03-07T16:15:11.000Z", "currencyCode": "EUR",
        "price": 59.9, "paymentType": "Card", "cardType": "Visa",
        "contact": {"email": "jane.doe@example.com",
                    "identifiers": [{"provider": "CRM", "id": f"C-{reference_id}"}]},
        "orderItems": [{
            "type": "SHOES", "productId": "SKU-1", "name": "Trail Shoe",
            "description": f"Trail Shoe {noise}", "vendor": "Acme",
            "referenceId": f"{reference_id}-1", "status": "PURCHASED", "price": 59.9,
            "currencyCode": "EUR", "quantity": 1,
        }],
    }


def delete_value(reference_id: str) -> dict[str, Any]:
    return {"referenceId": reference_id, "orderedAt": "2025-03-07T16:15:11.000Z"}


def make_records(inserts: int, deletes: tuple[str, ...] = (), seed: int = 7) -> list[BatchRecord]:
    """Deletes first, then inserts ORD-0001..; order_id = 1000 + position."""
    rng = random.Random(seed)
    planned = [("delete", reference_id) for reference_id in deletes]
    planned += [("insert", f"ORD-{n:04d}") for n in range(1, inserts + 1)]
    records = []
    for seq, (mode, reference_id) in enumerate(planned, start=1):
        value = (delete_value(reference_id) if mode == "delete"
                 else insert_value(reference_id, f"{rng.getrandbits(1200):x}"))
        ref = order_ref(reference_id, mode)
        line = json.dumps({"ref": ref, "schema": "order", "mode": mode, "value": value},
                          separators=(",", ":"))
        records.append(BatchRecord(seq=seq, ref=ref, schema="order", mode=mode,
                                   order_id=1000 + seq, reference_id=reference_id,
                                   ordered_at=value["orderedAt"],
                                   record_hash=f"{seq:032x}", record=line))
    return records


def make_batch_folder(directory: Path, inserts: int, deletes: tuple[str, ...] = (),
                      max_bytes: int = 1_000) -> list[BatchRecord]:
    """Write a batch folder with the real export writer; returns its records in order."""
    records = make_records(inserts, deletes)
    write_batch_files([records], directory, max_bytes=max_bytes)
    return records


def manifest_files(directory: Path) -> list[dict[str, Any]]:
    return json.loads((directory / "manifest.json").read_text())["files"]


def read_ledger(directory: Path) -> dict[str, Any] | None:
    """The ledger as it is on disk now (None while it does not exist or is mid-replace)."""
    try:
        return json.loads((directory / "ledger.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` every 5 ms; fail the test (not hang) when it never holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def file_states(directory: Path) -> dict[str, str]:
    ledger = read_ledger(directory) or {"files": {}}
    return {name: entry["state"] for name, entry in ledger["files"].items()}


def ship_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """The environment of a `cdp-loader` child process that ships to the sandbox."""
    return {**os.environ, "CDP_BASE_URL": sandbox.base_url, "CDP_CLIENT_KEY": CLIENT_KEY,
            "CDP_API_TOKEN": API_TOKEN, "CDP_LOADER_STATE_DIR": str(tmp_path / "state")}


def start_ship(folder: Path, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    """`cdp-loader ship FOLDER` as a real child process.

    The timeout is long: a test parks the child with `Retry-After: 60`, and the
    child must still be parked when the test acts on it.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "cdp_loader.cli", "ship", str(folder), "--poll-interval", "0.02",
         "--no-progress", "--timeout", "600", *options],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
