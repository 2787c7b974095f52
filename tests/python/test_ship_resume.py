"""`kill -9` of `cdp-loader ship` at chosen points, then a rerun: every record once, no re-send.

Each kill is triggered by what the ledger and the sandbox show, never by a blind sleep:
a fault with a long Retry-After (or held processing) parks the process at the point
under test, the test sees it there and kills it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from cdp_loader.cli import cli
from cdp_loader.records import BatchRecord
from cdp_loader.sandbox import Sandbox
from ship_helpers import (
    file_states,
    make_batch_folder,
    manifest_files,
    read_ledger,
    ship_env,
    start_ship,
    wait_until,
)

FIRST = "batch-00001.json.gz"
SECOND = "batch-00002.json.gz"


def kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()  # SIGKILL: no cleanup, no last ledger write
    process.communicate(timeout=10)
    assert process.returncode == -9


def rerun_and_check(folder: Path, sandbox: Sandbox, env: dict[str, str],
                    records: list[BatchRecord], done_before: dict[str, str]) -> dict:
    """Rerun; every record was received once, and batches finished before were kept."""
    result = CliRunner().invoke(cli, ["ship", str(folder), "--poll-interval", "0.02",
                                      "--no-progress"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [entry["ref"] for entry in sandbox.received()] == [r.ref for r in records]
    ledger = read_ledger(folder)
    assert ledger is not None
    assert file_states(folder) == {item["file"]: "success" for item in manifest_files(folder)}
    for file, batch_ref in done_before.items():
        assert ledger["files"][file]["batchRef"] == batch_ref
    # one processed batch per file: nothing was processed twice
    processed = {entry["batchRef"] for entry in sandbox.received()}
    assert processed == {entry["batchRef"] for entry in ledger["files"].values()}
    return ledger


def finished_batches(folder: Path) -> dict[str, str]:
    ledger = read_ledger(folder) or {"files": {}}
    return {name: entry["batchRef"] for name, entry in ledger["files"].items()
            if entry["state"] in ("success", "error")}


def test_kill_while_allocating_then_rerun(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    env = ship_env(sandbox, tmp_path)
    sandbox.faults.add("429@allocate=60")
    process = start_ship(folder, env)
    wait_until(lambda: str(sandbox.faults) == "", "the allocate call to be answered 429")
    wait_until(lambda: (read_ledger(folder) or {"files": {}})["files"].get(FIRST, {})
               .get("batchRef") is not None, "a batchRef chosen for the first file")
    kill(process)
    chosen = read_ledger(folder)["files"][FIRST]
    assert chosen["state"] == "pending"

    ledger = rerun_and_check(folder, sandbox, env, records, {})

    history = ledger["files"][FIRST]["history"]
    assert [(old["batchRef"], old["outcome"]) for old in history] == [
        (chosen["batchRef"], "abandoned before upload")]


def test_kill_just_after_allocation_then_rerun(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    env = ship_env(sandbox, tmp_path)
    with sandbox.hold_processing():
        process = start_ship(folder, env)
        wait_until(lambda: file_states(folder).get(FIRST) in
                   {"allocated", "uploading", "uploaded"}, "the first file allocated")
        kill(process)
        state_at_kill = file_states(folder)[FIRST]
    assert state_at_kill in {"allocated", "uploading", "uploaded"}

    rerun_and_check(folder, sandbox, env, records, {})


def test_kill_during_a_stalled_upload_resumes_the_same_batch(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    env = ship_env(sandbox, tmp_path)
    sandbox.faults.add("429@upload=60")
    process = start_ship(folder, env)
    wait_until(lambda: str(sandbox.faults) == "", "the upload to be answered 429")
    kill(process)
    at_kill = read_ledger(folder)["files"][FIRST]
    assert at_kill["state"] == "uploading"
    assert sandbox.batches() == {at_kill["batchRef"]: "uploading"}

    ledger = rerun_and_check(folder, sandbox, env, records, {})

    # the server could still take the file for that batchRef, so it was reused
    assert ledger["files"][FIRST]["batchRef"] == at_kill["batchRef"]
    assert ledger["files"][FIRST]["history"] == []


def test_kill_while_the_sandbox_processes_a_batch(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    env = ship_env(sandbox, tmp_path)
    with sandbox.hold_processing():
        process = start_ship(folder, env)
        wait_until(lambda: file_states(folder).get(FIRST) == "uploaded",
                   "the first file uploaded")
        batch_ref = read_ledger(folder)["files"][FIRST]["batchRef"]
        assert sandbox.batches() == {batch_ref: "file_uploaded"}
        kill(process)
    # processing goes on (and finishes) while no shipper runs
    assert sandbox.wait_until_idle()
    refreshed = CliRunner().invoke(cli, ["status", "--refresh", "--json"], env=env,
                                   catch_exceptions=False)
    assert refreshed.exit_code == 0, refreshed.output
    row = json.loads(refreshed.stdout)["files"][0]
    assert (row["file"], row["state"], row["batchRef"], row["server"]) == (
        FIRST, "uploaded", batch_ref, "success")
    assert "server" not in json.loads(refreshed.stdout)["files"][1]  # never started

    ledger = rerun_and_check(folder, sandbox, env, records, {})

    assert ledger["files"][FIRST]["batchRef"] == batch_ref
    assert ledger["files"][FIRST]["history"] == []


def test_kill_between_files_never_resends_a_finished_file(sandbox: Sandbox,
                                                          tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    assert len(manifest_files(folder)) >= 2
    env = ship_env(sandbox, tmp_path)
    with sandbox.hold_processing():
        process = start_ship(folder, env)
        wait_until(lambda: file_states(folder).get(FIRST) == "uploaded",
                   "the first file uploaded")
        # park the process at the second file's allocation, once the first is done
        sandbox.faults.add("429@allocate=60")
    wait_until(lambda: str(sandbox.faults) == "", "the second file's allocate answered 429")
    kill(process)
    done = finished_batches(folder)
    assert list(done) == [FIRST]
    assert file_states(folder)[SECOND] == "pending"

    rerun_and_check(folder, sandbox, env, records, done)
