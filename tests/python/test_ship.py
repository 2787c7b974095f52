"""`cdp-loader ship` and `status` against the local Batch API sandbox over real HTTP."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cdp_loader.api_client import BatchApiClient, Deadline
from cdp_loader.cli import cli
from cdp_loader.errors import LoaderError
from cdp_loader.sandbox import Sandbox
from cdp_loader.settings import Credentials
from cdp_loader.shipper import ShipReport, ship_directory
from ship_helpers import (
    API_TOKEN,
    CLIENT_KEY,
    make_batch_folder,
    manifest_files,
    order_ref,
    read_ledger,
)

POLL = "0.01"


@pytest.fixture
def env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    return {"CDP_BASE_URL": sandbox.base_url, "CDP_CLIENT_KEY": CLIENT_KEY,
            "CDP_API_TOKEN": API_TOKEN, "CDP_LOADER_STATE_DIR": str(tmp_path / "state")}


def run_cli(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def ship_in_process(directory: Path, sandbox: Sandbox, *, timeout: float = 30.0,
                    concurrency: int = 1, progress: list[str] | None = None) -> ShipReport:
    client = BatchApiClient(sandbox.base_url, Credentials(CLIENT_KEY, API_TOKEN),
                            deadline=Deadline(timeout), backoff_base=0.01, backoff_cap=0.05)
    return ship_directory(directory, client, concurrency=concurrency, poll_interval=0.01,
                          poll_cap=0.05,
                          progress=None if progress is None
                          else (lambda file, message: progress.append(f"{file}: {message}")))


def received_refs(sandbox: Sandbox) -> list[str]:
    return [entry["ref"] for entry in sandbox.received()]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert API_TOKEN not in text
        assert CLIENT_KEY not in text
        assert "Signature=" not in text


def test_happy_path_delivers_every_record_exactly_once(sandbox: Sandbox, env: dict[str, str],
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=6)
    files = manifest_files(folder)
    assert len(files) >= 3  # the helper's small max_bytes splits the records

    result = run_cli(["ship", str(folder), "--json", "--poll-interval", POLL], env)

    assert result.exit_code == 0, result.output
    assert received_refs(sandbox) == [record.ref for record in records]
    assert all(200 <= entry["code"] < 300 for entry in sandbox.received())
    assert sorted(order["referenceId"] for order in sandbox.orders()) == [
        f"ORD-000{n}" for n in range(1, 7)]
    report = json.loads(result.stdout)
    assert {key: report[key] for key in ("files", "records", "files_succeeded",
                                         "files_errored", "files_pending", "rejected",
                                         "rejected_by_code", "deletes_already_absent",
                                         "exit_code")} == {
        "files": len(files), "records": 6, "files_succeeded": len(files), "files_errored": 0,
        "files_pending": 0, "rejected": 0, "rejected_by_code": {},
        "deletes_already_absent": 0, "exit_code": 0}
    assert report["bytes"] == sum(item["bytes"] for item in files)
    ledger = read_ledger(folder)
    assert ledger is not None
    assert list(ledger["files"]) == [item["file"] for item in files]
    batches = sandbox.batches()
    for item in files:
        entry = ledger["files"][item["file"]]
        assert entry["state"] == "success"
        assert entry["history"] == []
        assert (entry["checksum"], entry["size"], entry["records"]) == (
            item["md5"], item["bytes"], item["records"])
        assert batches[entry["batchRef"]] == "success"
        assert entry["status"]["code"] == "success"
        assert entry["status"]["stats"]["totalRecords"] == item["records"]
        assert [r["batchRef"] for r in sandbox.received()].count(entry["batchRef"]) \
            == item["records"]
    assert len(batches) == len(files)
    assert stat.S_IMODE((folder / "ledger.json").stat().st_mode) == 0o600
    assert not (folder / "rejects.ndjson").exists()
    assert_no_secret(result.output, (folder / "ledger.json").read_text())
    assert (tmp_path / "state" / "latest-ship").read_text() == f"{folder.resolve()}\n"


def test_second_run_sends_nothing_again(sandbox: Sandbox, env: dict[str, str],
                                        tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=3)
    assert run_cli(["ship", str(folder), "--poll-interval", POLL], env).exit_code == 0
    batches = sandbox.batches()

    again = run_cli(["ship", str(folder), "--poll-interval", POLL], env)

    assert again.exit_code == 0
    assert sandbox.batches() == batches
    assert received_refs(sandbox) == [record.ref for record in records]
    assert again.stdout.startswith(f"files {len(manifest_files(folder))} (succeeded ")


@pytest.mark.parametrize("faults", [
    "429x2@allocate=0.01,429@status=0.01,429@upload=0",
    "503@allocate,500x2@upload,502@status",
    "drop",
    "drop,429@upload=0.01,503@upload",
])
def test_transient_faults_are_retried(sandbox: Sandbox, tmp_path: Path, faults: str) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    sandbox.faults.add(faults)

    report = ship_in_process(folder, sandbox)

    assert report.exit_code == 0
    assert str(sandbox.faults) == ""  # every staged fault was met
    assert received_refs(sandbox) == [record.ref for record in records]
    ledger = read_ledger(folder)
    assert ledger is not None
    assert all(entry["history"] == [] for entry in ledger["files"].values())
    assert len(sandbox.batches()) == len(manifest_files(folder))


def test_retry_after_is_honoured(sandbox: Sandbox, tmp_path: Path) -> None:
    # A client ignoring Retry-After would retry after its tiny backoff and succeed;
    # honouring 30 s within a 5 s budget must give up at once instead.
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    sandbox.faults.add("429@allocate=30")

    with pytest.raises(LoaderError) as caught:
        ship_in_process(folder, sandbox, timeout=5)

    ref = read_ledger(folder)["files"]["batch-00001.json.gz"]["batchRef"]
    assert caught.value.message == (f"gave up allocate batch {ref}: HTTP 429 from "
                                    f"{sandbox.base_url}/v2/batches/{ref}: --timeout of 5s "
                                    "reached")
    assert sandbox.received() == []


@pytest.mark.parametrize(("fault", "outcome", "old_status"), [
    ("expired", "upload refused (HTTP 403)", "uploading"),
    ("corrupted", "corrupted", "corrupted"),
])
def test_dead_batch_is_replaced_by_a_new_batch_ref(sandbox: Sandbox, tmp_path: Path,
                                                   fault: str, outcome: str,
                                                   old_status: str) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=1)
    sandbox.faults.add(fault)

    report = ship_in_process(folder, sandbox)

    assert report.exit_code == 0
    entry = read_ledger(folder)["files"]["batch-00001.json.gz"]
    assert entry["state"] == "success"
    assert [old["outcome"] for old in entry["history"]] == [outcome]
    old_ref = entry["history"][0]["batchRef"]
    assert old_ref != entry["batchRef"]
    assert sandbox.batches() == {old_ref: old_status, entry["batchRef"]: "success"}
    assert received_refs(sandbox) == [records[0].ref]


def test_slow_processing_is_followed_to_the_end(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=2)
    sandbox.faults.add("slow=0.3")
    progress: list[str] = []

    report = ship_in_process(folder, sandbox, progress=progress)

    assert report.exit_code == 0
    assert received_refs(sandbox) == [record.ref for record in records]
    first_ref = read_ledger(folder)["files"]["batch-00001.json.gz"]["batchRef"]
    assert f"batch-00001.json.gz: batch {first_ref} processing" in progress
    assert progress[-1].endswith(" success")


def test_rejected_records_are_mapped_to_orders_and_exit_1(sandbox: Sandbox,
                                                          env: dict[str, str],
                                                          tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=5)
    sandbox.faults.add("reject=ORD-0003,503@log")

    result = run_cli(["ship", str(folder), "--json", "--poll-interval", POLL], env)

    assert result.exit_code == 1
    rejected = next(r for r in records if r.reference_id == "ORD-0003")
    ledger = read_ledger(folder)
    file = next(name for name, entry in ledger["files"].items() if entry["rejected"])
    batch_ref = ledger["files"][file]["batchRef"]
    lines = (folder / "rejects.ndjson").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{
        "file": file, "batchRef": batch_ref, "ref": rejected.ref, "reference_id": "ORD-0003",
        "order_id": rejected.order_id, "mode": "insert", "code": "400",
        "message": "Validation error (details withheld)",
    }]
    assert stat.S_IMODE((folder / "rejects.ndjson").stat().st_mode) == 0o600
    assert ledger["files"][file]["state"] == "error"
    assert ledger["files"][file]["rejected_by_code"] == {"400": 1}
    report = json.loads(result.stdout)
    assert (report["rejected"], report["rejected_by_code"], report["files_errored"]) == (
        1, {"400": 1}, 1)
    assert result.stderr.splitlines()[-1] == (
        f"cdp-loader: 1 records rejected, 1 batches in error; see {folder}/rejects.ndjson")
    assert received_refs(sandbox) == [record.ref for record in records]
    assert str(sandbox.faults) == "reject=ORD-0003"  # the log download was retried

    rerun = run_cli(["ship", str(folder), "--poll-interval", POLL], env)
    assert rerun.exit_code == 1  # still reported, never re-sent
    assert received_refs(sandbox) == [record.ref for record in records]
    assert (folder / "rejects.ndjson").read_text().splitlines() == lines


def test_delete_of_an_absent_order_is_done_not_failed(sandbox: Sandbox, env: dict[str, str],
                                                      tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=2, deletes=("GONE-1",))

    result = run_cli(["ship", str(folder), "--json", "--poll-interval", POLL], env)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["deletes_already_absent"], report["rejected"], report["files_errored"]) == (
        1, 0, 0)
    assert report["files_succeeded"] == report["files"]
    first = sandbox.received()[0]
    assert (first["ref"], first["code"]) == (order_ref("GONE-1", "delete"), 404)
    assert received_refs(sandbox) == [record.ref for record in records]
    entry = read_ledger(folder)["files"]["batch-00001.json.gz"]
    assert (entry["state"], entry["deletes_already_absent"], entry["rejected"]) == (
        "error", 1, 0)
    assert not (folder / "rejects.ndjson").exists()


def test_concurrent_shipping_delivers_everything_once(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=6, deletes=("GONE-1",))

    report = ship_in_process(folder, sandbox, concurrency=3)

    assert report.exit_code == 0
    assert sorted(received_refs(sandbox)) == sorted(record.ref for record in records)
    # the file with the delete ran alone, before everything else
    assert received_refs(sandbox)[0] == order_ref("GONE-1", "delete")


def test_wrong_token_is_one_line_without_the_secret(sandbox: Sandbox, env: dict[str, str],
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    wrong = "tok-WRONG-secret-31337"

    result = run_cli(["ship", str(folder), "--poll-interval", POLL],
                     {**env, "CDP_API_TOKEN": wrong})

    assert result.exit_code == 2
    ref = read_ledger(folder)["files"]["batch-00001.json.gz"]["batchRef"]
    assert result.stderr == (f"cdp-loader: allocate batch {ref}: HTTP 401 from "
                             f"{sandbox.base_url}/v2/batches/{ref} (check CDP_CLIENT_KEY "
                             "and CDP_API_TOKEN)\n")
    assert wrong not in result.output + (folder / "ledger.json").read_text()
    assert_no_secret(result.output)
    assert sandbox.received() == []


def test_plain_http_to_a_remote_host_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)

    result = run_cli(["ship", str(folder)], {**env, "CDP_BASE_URL": "http://cdp.example.com"})

    assert result.exit_code == 2
    assert result.stderr == ("cdp-loader: --base-url/CDP_BASE_URL uses http:// to a "
                             "non-loopback host; CDP needs https://\n")
    assert not (folder / "ledger.json").exists()


def test_timeout_bounds_a_server_that_keeps_failing(sandbox: Sandbox, env: dict[str, str],
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    sandbox.faults.add("503x100000")

    result = run_cli(["ship", str(folder), "--timeout", "0.5", "--poll-interval", POLL], env)

    assert result.exit_code == 2
    ref = read_ledger(folder)["files"]["batch-00001.json.gz"]["batchRef"]
    assert result.stderr == (f"cdp-loader: gave up allocate batch {ref}: HTTP 503 from "
                             f"{sandbox.base_url}/v2/batches/{ref}: --timeout of 0.5s "
                             "reached\n")
    assert sandbox.received() == []


def test_changed_batch_file_is_refused(sandbox: Sandbox, env: dict[str, str],
                                       tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    (folder / "batch-00001.json.gz").write_bytes(b"\x1f\x8b tampered")

    result = run_cli(["ship", str(folder)], env)

    assert result.exit_code == 2
    assert result.stderr == ("cdp-loader: batch-00001.json.gz changed since export (size or "
                             "MD5 differs from manifest.json); export again to a new folder\n")
    assert sandbox.batches() == {}


def test_status_shows_the_ledger_of_the_latest_ship(sandbox: Sandbox, env: dict[str, str],
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=3, deletes=("GONE-1",))
    sandbox.faults.add("reject=ORD-0002")
    assert run_cli(["ship", str(folder), "--poll-interval", POLL], env).exit_code == 1
    ledger = read_ledger(folder)

    as_json = run_cli(["status", "--json"], env)
    table = run_cli(["status", str(folder)], env)

    assert as_json.exit_code == 0 and table.exit_code == 0
    rows = json.loads(as_json.stdout)["files"]
    assert [(row["file"], row["records"], row["state"], row["batchRef"], row["rejected"],
             row["deletes_already_absent"]) for row in rows] == [
        (name, entry["records"], entry["state"], entry["batchRef"], entry["rejected"],
         entry["deletes_already_absent"]) for name, entry in ledger["files"].items()]
    lines = table.stdout.splitlines()
    assert lines[0] == str(folder)
    assert lines[1].split() == ["file", "records", "state", "batchRef", "updated", "rejected"]
    first = ledger["files"]["batch-00001.json.gz"]
    assert lines[2].split() == ["batch-00001.json.gz", str(first["records"]), first["state"],
                                first["batchRef"], first["updated_at"], str(first["rejected"])]
    assert len(lines) == 2 + len(ledger["files"])
    assert_no_secret(as_json.output, table.output)


def test_status_without_any_ship_says_so(env: dict[str, str]) -> None:
    result = run_cli(["status"], env)
    assert result.exit_code == 2
    assert result.stderr == ("cdp-loader: no folder given and no earlier `cdp-loader ship` "
                             "recorded\n")
