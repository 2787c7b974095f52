"""Reruns that cannot lose or double an order: the second day, the bad day.

Real processes, real signals and real HTTP against the sandbox: the README's
manual flow over two days, two ships of one folder at once, SIGINT and SIGTERM
mid-ship, cut and edited batch files, a full disk, rejects on screen, errors
that no retry can fix.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from cdp_loader.batch_files import write_batch_files
from cdp_loader.cli import cli
from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.pipeline import RunOptions, run_job
from cdp_loader.records import iter_record_chunks
from cdp_loader.sample_warehouse import generate
from cdp_loader.sandbox import FaultPlan, Sandbox
from conftest import PROJECT_DIR
from daily_helpers import new_order_version, pick_orders, sandbox_orders, warehouse_orders
from export_helpers import create_batch_records_db, create_generated_db, sample_records
from ship_helpers import (
    API_TOKEN,
    CLIENT_KEY,
    file_states,
    make_batch_folder,
    make_records,
    manifest_files,
    read_ledger,
    ship_env,
    start_ship,
    wait_until,
)

FIRST = "batch-00001.json.gz"
POLL = "0.02"


def cli_run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def received_refs(sandbox: Sandbox) -> list[str]:
    return [entry["ref"] for entry in sandbox.received()]


# --- the README's manual flow, two days in one folder ----------------------------------


def test_the_manual_flow_on_day_2_refuses_the_old_folder_then_delivers_every_change(
        built_warehouse: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, database)
    folder = tmp_path / "batches"
    env = {**ship_env(sandbox, tmp_path), "CDP_DUCKDB_PATH": str(database)}

    # Day 1: export, ship (which records what CDP took).
    assert cli_run(["export", "--out", str(folder), "--no-progress"], env).exit_code == 0
    day1 = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)
    assert day1.exit_code == 0, day1.output

    # Day 2: ten orders change at the source, and the mart is rebuilt.
    with duckdb.connect(str(database)) as connection:
        changed = pick_orders(connection, 10)
        for order_id in changed:
            new_order_version(connection, order_id, "'cancelled' as status")
    run_dbt_build(PROJECT_DIR, database, ("--quiet", "--selector", "backfill"))

    # Exporting into yesterday's folder is refused, in one line, and changes nothing.
    ledger_before = (folder / "ledger.json").read_bytes()
    refused = cli_run(["export", "--out", str(folder), "--no-progress"], env)
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"cdp-loader: {folder} holds the ledger of an earlier ship; export into a new "
        "folder, or pass --archive-previous to move that export and its ledger to "
        f"{folder}/shipped-<time>/ first\n")
    assert (folder / "ledger.json").read_bytes() == ledger_before

    # With the flag, yesterday's export moves away whole, and today's ships.
    archived = cli_run(["export", "--out", str(folder), "--archive-previous",
                        "--no-progress"], env)
    assert archived.exit_code == 0, archived.output
    old = next(folder.glob("shipped-*"))
    assert (old / "ledger.json").read_bytes() == ledger_before
    assert sorted(p.name for p in old.glob("batch-*.json.gz")) == [
        item["file"] for item in manifest_files(old)]
    assert not (folder / "ledger.json").exists()
    day2 = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)
    assert day2.exit_code == 0, day2.output

    # CDP holds every order as the warehouse has it now, the changed ones included.
    held = sandbox_orders(sandbox)
    assert held == warehouse_orders(database)
    with duckdb.connect(str(database), read_only=True) as connection:
        current = dict(connection.execute(
            "select order_id, record_hash from cdp.cdp_batch_records "
            "where list_contains(?, order_id)", [changed]).fetchall())
        recorded = connection.execute(
            "select order_id, record_hash, outcome from cdp.cdp_shipped_orders "
            "where list_contains(?, order_id) order by shipped_at", [changed]).fetchall()
    assert {value["status"] for (_, _), value in held.items()
            if value["referenceId"] in _references(database, changed)} == {"CANCELLED"}
    # The shipped state names the bytes CDP took on each day, the latest last.
    latest = {order_id: record_hash for order_id, record_hash, _ in recorded}
    assert latest == current
    assert {outcome for _, _, outcome in recorded} == {"success"}
    # Each ship left its row in the run history.
    with duckdb.connect(str(database), read_only=True) as connection:
        runs = connection.execute(
            "select scope, batch_dir, records_sent, records_rejected, exit_code "
            "from cdp.cdp_ship_runs order by started_at").fetchall()
    total = sum(item["records"] for item in manifest_files(folder))
    assert runs == [("ship", str(folder), sum(item["records"] for item in manifest_files(old)),
                     0, 0), ("ship", str(folder), total, 0, 0)]
    # Yesterday's folder is still a batch folder: its status reads as before.
    status = cli_run(["status", str(old), "--json"], env)
    assert status.exit_code == 0, status.output
    assert [row["state"] for row in json.loads(status.stdout)["files"]] == [
        entry["state"] for entry in json.loads(ledger_before)["files"].values()]


def _references(database: Path, order_ids: list[int]) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {row[0] for row in connection.execute(
            "select reference_id from cdp.cdp_batch_records where list_contains(?, order_id)",
            [order_ids]).fetchall()}


# --- one ship per folder ----------------------------------------------------------------


def test_two_ships_of_one_folder_deliver_every_record_exactly_once(sandbox: Sandbox,
                                                                   tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=6)
    env = ship_env(sandbox, tmp_path)
    with sandbox.hold_processing():
        first = start_ship(folder, env)
        wait_until(lambda: file_states(folder).get(FIRST) == "uploaded", "the first upload")

        # A second ship gives up at once and names the first one.
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "cdp_loader.cli", "ship", str(folder), "--no-progress"],
            env=env, capture_output=True, text=True, timeout=60)
        assert time.monotonic() - started < 20
        assert second.returncode == 2
        assert second.stderr.startswith(f"cdp-loader: {folder} is in use by pid {first.pid} "
                                        "(ship since ")
        assert second.stderr.endswith("run again when it ends, or pass --wait\n")
        assert second.stderr.count("\n") == 1

        # An export into the folder being shipped is refused the same way.
        database = tmp_path / "warehouse.duckdb"
        create_batch_records_db(database, sample_records(2))
        export = cli_run(["export", "--out", str(folder), "--database", str(database),
                          "--no-progress"], env)
        assert export.exit_code == 2
        assert export.stderr.startswith(f"cdp-loader: {folder} is in use by pid {first.pid} ")

        # With --wait, a third ship waits for the first, then finds nothing left to send.
        third = start_ship(folder, env, "--wait")
        time.sleep(0.5)
        assert third.poll() is None
    assert first.wait(timeout=60) == 0
    assert third.wait(timeout=60) == 0, third.stderr.read() if third.stderr else ""
    for process in (first, third):
        process.communicate()
    assert sorted(received_refs(sandbox)) == sorted(record.ref for record in records)


def test_the_lock_goes_with_a_killed_holder(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=3)
    env = ship_env(sandbox, tmp_path)
    sandbox.faults.add("429@allocate=60")
    holder = start_ship(folder, env)
    wait_until(lambda: str(sandbox.faults) == "", "the allocate call answered 429")
    holder.kill()
    holder.communicate(timeout=10)

    rerun = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)

    assert rerun.exit_code == 0, rerun.output
    assert received_refs(sandbox) == [record.ref for record in records]


# --- signals --------------------------------------------------------------------------


@pytest.mark.parametrize(("signal_number", "status", "name"), [
    (signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
@pytest.mark.parametrize("parked_at", ["upload", "processing"])
def test_a_signal_stops_a_ship_within_seconds_and_a_rerun_resumes(
        sandbox: Sandbox, tmp_path: Path, signal_number: int, status: int, name: str,
        parked_at: str) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=4)
    env = ship_env(sandbox, tmp_path)
    with contextlib.ExitStack() as parked:
        if parked_at == "upload":
            sandbox.faults.add("429@upload=60")  # the child sleeps out a Retry-After of 60 s
            ship = start_ship(folder, env)
            wait_until(lambda: str(sandbox.faults) == "", "the upload answered 429")
        else:
            parked.enter_context(sandbox.hold_processing())  # the child polls and polls
            ship = start_ship(folder, env)
            wait_until(lambda: file_states(folder).get(FIRST) == "uploaded", "the upload")
        time.sleep(0.2)

        sent = time.monotonic()
        ship.send_signal(signal_number)
        _, stderr = ship.communicate(timeout=30)
        waited = time.monotonic() - sent

    assert waited < 10
    assert ship.returncode == status
    assert stderr.decode().splitlines()[-1] == (
        f"cdp-loader: interrupted by {name}; what was done is kept: run the same command "
        "again to resume")
    assert "Traceback" not in stderr.decode()
    ledger = read_ledger(folder)
    assert ledger is not None
    assert ledger["files"][FIRST]["state"] == ("uploading" if parked_at == "upload"
                                               else "uploaded")
    assert not (folder / ".lock").read_bytes()  # the holder's line went with it

    rerun = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)
    assert rerun.exit_code == 0, rerun.output
    assert sorted(received_refs(sandbox)) == sorted(record.ref for record in records)


# --- files edited by hand ------------------------------------------------------------


def test_a_cut_batch_file_is_refused_before_anything_is_sent(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=2)
    batch = folder / FIRST
    batch.write_bytes(batch.read_bytes()[:-20])

    result = cli_run(["ship", str(folder), "--no-progress"], ship_env(sandbox, tmp_path))

    assert result.exit_code == 2
    assert result.stderr == (f"cdp-loader: {FIRST} changed since export (size or MD5 differs "
                             "from manifest.json); export again to a new folder\n")
    assert sandbox.batches() == {}


def test_a_finished_file_whose_bytes_changed_is_not_finished(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=2, max_bytes=50_000)
    env = ship_env(sandbox, tmp_path)
    assert cli_run(["ship", str(folder), "--poll-interval", POLL], env).exit_code == 0
    shipped_ref = read_ledger(folder)["files"][FIRST]["batchRef"]

    # By hand: other records put in the folder with a manifest that matches them.
    other = tmp_path / "other"
    changed = make_records(3)
    write_batch_files([changed], other, max_bytes=50_000)
    for name in (FIRST, "batch-00001.index.tsv", "manifest.json"):
        shutil.copy(other / name, folder / name)
    status = json.loads(cli_run(["status", str(folder), "--json"], env).stdout)
    assert status["files"][0]["state"] == "stale (success for other bytes)"

    result = cli_run(["ship", str(folder), "--poll-interval", POLL, "--json"], env)

    assert result.exit_code == 0, result.output
    entry = read_ledger(folder)["files"][FIRST]
    assert entry["state"] == "success" and entry["batchRef"] != shipped_ref
    assert [old["batchRef"] for old in entry["superseded"]] == [shipped_ref]
    assert received_refs(sandbox)[-3:] == [record.ref for record in changed]


def test_an_export_that_fills_the_disk_leaves_no_half_folder(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    create_batch_records_db(database, sample_records(60, payload_bytes=3000))
    with small_disk(tmp_path / "small-disk", "64k") as disk:
        folder = disk / "batches"
        result = cli_run(["export", "--out", str(folder), "--database", str(database),
                          "--max-bytes", "20000", "--no-progress"], {})
        assert result.exit_code == 2
        assert result.stderr == (f"cdp-loader: cannot write batch files in {folder}: "
                                 "No space left on device\n")
        assert sorted(p.name for p in folder.iterdir()) == [".lock"]


# --- what a person sees -----------------------------------------------------------------


def test_rejected_records_are_listed_on_screen_and_all_in_json(sandbox: Sandbox,
                                                               tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    records = make_batch_folder(folder, inserts=25, max_bytes=50_000)
    sandbox.faults.add("reject-every=1")
    env = ship_env(sandbox, tmp_path)

    text = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)

    assert text.exit_code == 1
    lines = text.stdout.splitlines()
    start = lines.index("rejected records (25):")
    shown = lines[start + 1:start + 21]
    assert shown == [f"  {record.reference_id} (order_id {record.order_id}): 400: "
                     "Validation error (details withheld)" for record in records[:20]]
    assert lines[start + 21] == f"  and 5 more in {folder / 'rejects.ndjson'}"
    assert text.stderr.endswith(
        f"cdp-loader: 25 records rejected, 1 batches in error; see "
        f"{folder / 'rejects.ndjson'}\n")

    again = cli_run(["ship", str(folder), "--json", "--no-progress"], env)
    assert again.exit_code == 1
    rejects = json.loads(again.stdout)["rejects"]
    assert [(r["reference_id"], r["order_id"], r["code"]) for r in rejects] == [
        (record.reference_id, record.order_id, "400") for record in records]


def test_a_permanent_http_error_fails_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    env = {**ship_env(sandbox, tmp_path), "CDP_BASE_URL": f"{sandbox.base_url}/no-such-api"}
    started = time.monotonic()

    result = cli_run(["ship", str(folder), "--timeout", "600"], env)

    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    ref = read_ledger(folder)["files"][FIRST]["batchRef"]
    assert result.stderr == (f"cdp-loader: allocate batch {ref}: HTTP 404 from "
                             f"{sandbox.base_url}/no-such-api/v2/batches/{ref}\n")


def test_a_header_that_cannot_be_sent_fails_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    env = {**ship_env(sandbox, tmp_path), "CDP_CLIENT_KEY": "key-\u20ac"}
    started = time.monotonic()

    result = cli_run(["ship", str(folder), "--timeout", "600"], env)

    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    assert "a request header is invalid (check CDP_CLIENT_KEY and CDP_API_TOKEN)" \
        in result.stderr
    assert "\u20ac" not in result.stderr and result.stderr.count("\n") == 1


def test_a_server_that_is_down_is_retried_until_the_timeout(tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    env = {"CDP_BASE_URL": "http://127.0.0.1:9", "CDP_CLIENT_KEY": CLIENT_KEY,
           "CDP_API_TOKEN": API_TOKEN}

    result = cli_run(["ship", str(folder), "--timeout", "1"], env)

    assert result.exit_code == 2
    assert result.stderr.endswith("connection failed (ConnectionError) to "
                                  "http://127.0.0.1:9/v2/batches/"
                                  f"{read_ledger(folder)['files'][FIRST]['batchRef']}: "
                                  "--timeout of 1s reached\n")


def test_every_exit_status_is_documented_in_help() -> None:
    for args in ([], ["ship"], ["run"], ["export"], ["validate"], ["status"], ["report"],
                 ["sandbox"], ["sample-warehouse"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        help_text = " ".join(result.output.split())
        for status, meaning in (("0", "everything asked for succeeded"),
                                ("1", "records were rejected"),
                                ("2", "usage, configuration or connection failure"),
                                ("3", "internal error"), ("130", "interrupted by SIGINT"),
                                ("143", "interrupted by SIGTERM")):
            assert f"{status} {meaning}" in help_text, (args, status)


_FAILING_COMMAND = """
import click, sys
from cdp_loader import cli as entry

@click.command("explode")
def explode():
    {}.get("missing")["deeper"]

entry.cli.add_command(explode)
sys.argv = ["cdp-loader", *sys.argv[1:]]
entry.main()
"""


@pytest.mark.parametrize("debug", [False, True])
def test_an_internal_error_says_how_to_see_the_traceback(debug: bool) -> None:
    args = ["--debug", "explode"] if debug else ["explode"]
    result = subprocess.run([sys.executable, "-c", _FAILING_COMMAND, *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3
    last = result.stderr.splitlines()[-1]
    assert last == ("cdp-loader: internal error (TypeError); rerun with `cdp-loader --debug "
                    "...` for the traceback and report it")
    assert ("Traceback (most recent call last)" in result.stderr) is debug


# --- the pipeline as a library ----------------------------------------------------------


def test_the_whole_job_is_a_function_that_returns_a_report(built_warehouse: Path,
                                                           tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, database)
    stages: list[str] = []

    report = run_job(RunOptions(database=database, out_root=tmp_path / "out", skip_dbt=True,
                                sandbox=True, poll_interval=0.05),
                     on_stage=lambda stage, _report: stages.append(stage))

    with duckdb.connect(str(database), read_only=True) as connection:
        (records,) = connection.execute("select count(*) from cdp.cdp_batch_records").fetchone()
    assert stages == ["mart", "export", "validate", "ship", "report"]
    assert report.html_report == report.folder.with_name(f"{report.folder.name}.html")
    assert "<svg" in report.html_report.read_text()
    assert report.exit_code == 0
    assert report.export is not None and report.export.records == records
    assert report.ship is not None and report.ship.records == records
    assert report.state is None  # a rehearsal records nothing
    document = json.loads(json.dumps(report.to_dict()))
    assert document["ship"]["files_succeeded"] == len(report.export.files)
    lines = [gzip.decompress((report.folder / info.file).read_bytes()).count(b"\n")
             for info in report.export.files]
    assert sum(lines) == records


# --- error logs as CDP may write them -------------------------------------------------


def _ship_sample_with_faults(built_warehouse: Path, tmp_path: Path, faults: str
                             ) -> tuple[Result, list[str], list[int], list[tuple]]:
    """Export the sample, ship it to a sandbox with FAULTS; what the run said and recorded."""
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, database)
    folder = tmp_path / "batches"
    exported = write_batch_files(iter_record_chunks(database), folder)
    with Sandbox(faults=FaultPlan.parse(faults), client_key=CLIENT_KEY,
                 api_token=API_TOKEN) as cdp:
        env = {**ship_env(cdp, tmp_path), "CDP_DUCKDB_PATH": str(database)}
        result = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)
    with duckdb.connect(str(database), read_only=True) as connection:
        recorded = connection.execute(
            "select batch_file, mode, outcome, count(*) from cdp.cdp_shipped_orders "
            "group by all order by batch_file").fetchall()
    return (result, [info.file for info in exported.files],
            [info.records for info in exported.files], recorded)


def test_error_log_codes_written_as_numbers_read_as_strings(built_warehouse: Path,
                                                           tmp_path: Path) -> None:
    result, files, counts, recorded = _ship_sample_with_faults(
        built_warehouse, tmp_path, "numeric-codes")

    # The deletes' log wrote 404 as a number: they are already absent, not rejected.
    assert result.exit_code == 0, result.output
    assert f"deletes already absent {counts[0]}" in result.stdout
    assert recorded == [(files[0], "delete", "already_absent", counts[0]),
                        (files[1], "insert", "success", counts[1])]


def test_a_file_refused_whole_is_reported_with_its_file_and_never_recorded(
        built_warehouse: Path, tmp_path: Path) -> None:
    result, files, counts, recorded = _ship_sample_with_faults(
        built_warehouse, tmp_path, "file-error")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1:3] == ["rejected records (1):",
                          f"  {files[0]} (the whole file): 400: Validation error "
                          "(details withheld)"]
    assert "1 files refused whole: not recorded" in result.stdout
    # Only the bytes CDP took are in the shipped state: nothing of the refused file.
    assert recorded == [(files[1], "insert", "success", counts[1])]


def test_a_ledger_edited_into_another_shape_is_one_line_not_a_crash(sandbox: Sandbox,
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=1)
    (folder / "ledger.json").write_text(json.dumps(
        {"format": 2, "updated_at": None, "files": {FIRST: "success"}}))

    for args in (["ship", str(folder)], ["status", str(folder)]):
        result = cli_run(args, ship_env(sandbox, tmp_path))
        assert result.exit_code == 2
        assert result.stderr == (f"cdp-loader: {folder / 'ledger.json'} is not a format-2 "
                                 "ledger (edited by hand?); move it away only if nothing was "
                                 "shipped from this folder\n")
    assert sandbox.batches() == {}


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of SIZE mounted at WHERE (root only: skips the test otherwise)."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(where)], capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def test_a_disk_that_fills_up_during_a_ship_stops_it_and_a_rerun_resumes(
        sandbox: Sandbox, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "256k") as disk:
        folder = disk / "batches"
        records = make_batch_folder(folder, inserts=3)
        filler = disk / "filler"
        # Fill the disk to its last bytes.
        with contextlib.suppress(OSError), filler.open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 512)
        env = ship_env(sandbox, tmp_path)

        full = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)

        assert full.exit_code == 2
        assert full.stderr == (f"cdp-loader: cannot write {folder / 'ledger.json'}: "
                               "No space left on device\n")
        assert sandbox.batches() == {}  # the ledger is written before each step
        filler.unlink()
        rerun = cli_run(["ship", str(folder), "--poll-interval", POLL, "--no-progress"], env)
        assert rerun.exit_code == 0, rerun.output
        assert received_refs(sandbox) == [record.ref for record in records]


def test_ctrl_c_during_an_export_leaves_no_half_folder(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    create_generated_db(database, 200_000)
    folder = tmp_path / "batches"
    export = subprocess.Popen(
        [sys.executable, "-m", "cdp_loader.cli", "export", "--out", str(folder), "--database",
         str(database), "--max-bytes", "100000", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: any(folder.glob("batch-*.json.gz")), "the first batch file", 60)

    export.send_signal(signal.SIGINT)
    _, stderr = export.communicate(timeout=30)

    assert export.returncode == 130, stderr
    assert stderr.decode().splitlines()[-1].startswith("cdp-loader: interrupted by SIGINT")
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def test_sigterm_during_the_dbt_build_of_a_run_stops_dbt_too(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    generate(database, 200, 3)
    run = subprocess.Popen(
        [sys.executable, "-m", "cdp_loader.cli", "run", "--sandbox", "--database",
         str(database), "--project-dir", str(PROJECT_DIR), "--out", str(tmp_path / "out"),
         "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: bool(_children(run.pid)), "dbt started", 60)
    (dbt,) = _children(run.pid)

    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=60)

    assert run.returncode == 143, stderr
    assert stderr.decode().splitlines()[-1].startswith("cdp-loader: interrupted by SIGTERM")
    assert not Path(f"/proc/{dbt}").exists() or "zombie" in Path(
        f"/proc/{dbt}/status").read_text()
    assert not (tmp_path / "out").exists()


def test_an_unfinished_ship_is_not_archived_away(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "batches"
    make_batch_folder(folder, inserts=4)
    env = ship_env(sandbox, tmp_path)
    sandbox.faults.add("503x50@allocate")
    stopped = cli_run(["ship", str(folder), "--timeout", "0.3", "--no-progress"], env)
    assert stopped.exit_code == 2
    database = tmp_path / "warehouse.duckdb"
    create_batch_records_db(database, sample_records(2))

    refused = cli_run(["export", "--out", str(folder), "--database", str(database),
                       "--archive-previous", "--no-progress"], env)

    files = len(manifest_files(folder))
    assert refused.exit_code == 2
    assert refused.stderr == (f"cdp-loader: the earlier ship of {folder} has not finished "
                              f"({files} files not final); run `cdp-loader ship {folder}` to "
                              "finish it, or export into a new folder\n")
    assert not list(folder.glob("shipped-*"))
