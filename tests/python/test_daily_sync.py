"""The daily sync over several days: real warehouses, real dbt builds, one sandbox as CDP.

Day 1 backfills a small sample. Day 2 the order system changes orders (new
versions in the raw tables) and the sandbox refuses one of them. Day 3 nothing
changed and nothing is sent. Day 4 the refused order is fixed and only it is
sent. After every day the sandbox holds exactly what the warehouse
ships, plus what CDP keeps of a quarantined order.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cdp_loader.api_client import BatchApiClient, Deadline
from cdp_loader.batch_files import write_batch_files
from cdp_loader.cli import cli
from cdp_loader.errors import LoaderError
from cdp_loader.pipeline import ship_and_record
from cdp_loader.records import iter_record_chunks
from cdp_loader.sample_warehouse import generate
from cdp_loader.sandbox import Sandbox
from cdp_loader.settings import Credentials
from cdp_loader.shipped_state import StateCounts, record_shipped_state
from daily_helpers import (
    NEW_REFERENCES,
    LiftableRejections,
    batches_by_mode,
    change_day_2,
    file_modes,
    fix_order,
    pick_orders,
    run_day,
    sandbox_orders,
    warehouse_orders,
)

SAMPLE_ORDERS = 300
SEED = 11
DAY_2_ROLES = ("status", "price", "attribute", "deleted", "moved", "test", "rereferenced",
               "quarantined", "refused", "copied")


def _values_by_order(database: Path, order_ids: list[int]) -> dict[int, dict]:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select order_id, record from cdp.cdp_batch_records "
            "where mode = 'insert' and list_contains(?, order_id)",
            [order_ids]).fetchall()
    return {order_id: json.loads(record)["value"] for order_id, record in rows}


def _delta(day) -> dict[str, int]:
    return day.report["delta"]


def test_daily_runs_ship_only_what_changed_and_cdp_ends_as_the_warehouse(tmp_path) -> None:
    database = tmp_path / "warehouse.duckdb"
    out = tmp_path / "batches"
    generate(database, SAMPLE_ORDERS, SEED)
    faults = LiftableRejections()
    with Sandbox(faults=faults) as sandbox:
        # Day 1: the backfill sends everything and records it.
        day1 = run_day(sandbox, database, out)
        assert day1.exit_code == 0, day1.stderr
        assert day1.report["scope"] == "full"
        assert day1.report["state"]["recorded"] == day1.report["export"]["records"]
        assert sandbox_orders(sandbox) == warehouse_orders(database)

        with duckdb.connect(str(database), read_only=True) as connection:
            orders = dict(zip(DAY_2_ROLES, pick_orders(connection, len(DAY_2_ROLES)),
                              strict=True))
        day1_values = _values_by_order(database, list(orders.values()))
        reference = {role: day1_values[order_id]["referenceId"]
                     for role, order_id in orders.items()}
        ordered_at = {role: day1_values[order_id]["orderedAt"]
                      for role, order_id in orders.items()}

        # Day 2: changes of every kind; CDP refuses one changed order.
        change_day_2(database, orders, day1_values)
        faults.add(f"reject={reference['refused']}")
        day2 = run_day(sandbox, database, out, "--daily")
        assert day2.exit_code == 1, day2.stderr
        assert _delta(day2) == {
            "new_orders": 2, "changed_orders": 6, "retried_orders": 0, "deleted_orders": 2,
            "moved_orders": 2, "rejected_unchanged_orders": 0,
            "unchanged_orders": len(warehouse_orders(database)) - 2 - 6,
        }
        assert sorted(day2.sent("insert")) == sorted([
            *NEW_REFERENCES, reference["status"], reference["price"], reference["attribute"],
            reference["moved"], "ZZNEWREF", reference["refused"],
        ])
        assert sorted(day2.sent("delete")) == sorted([
            reference["deleted"], reference["moved"], reference["test"],
            reference["rereferenced"],
        ])
        # Deletes and inserts in separate files and batches, every delete batch first.
        assert file_modes(day2.folder) == [{"delete"}, {"insert"}]
        modes = [batch_modes for _ref, batch_modes in batches_by_mode(day2.received)]
        assert modes == [{"delete"}, {"insert"}]
        # The moved order: CDP's copy (old orderedAt) deleted before the new one arrives.
        moved = [(record["mode"], record["orderedAt"]) for record in day2.received
                 if record["referenceId"] == reference["moved"]]
        new_moved_at = warehouse_orders_by_reference(database)[reference["moved"]]
        assert moved == [("delete", ordered_at["moved"]), ("insert", new_moved_at)]
        assert new_moved_at != ordered_at["moved"]
        refused = [record["code"] for record in day2.received
                   if record["referenceId"] == reference["refused"]]
        assert refused == [400]
        assert day2.report["ship"]["rejected"] == 1
        assert day2.report["state"]["rejected"] == 1
        with duckdb.connect(str(database), read_only=True) as connection:
            held = connection.execute(
                "select cdp_holds_older_version from cdp.cdp_order_quarantine "
                "where order_id = ?", [orders["quarantined"]]).fetchall()
        assert held == [(True,)]
        # CDP keeps the quarantined order as it was, and the refused order's old version.
        kept = {(reference[role], ordered_at[role]): day1_values[orders[role]]
                for role in ("quarantined", "refused")}
        assert sandbox_orders(sandbox) == {**warehouse_orders(database), **kept}

        # Day 3: the replication did not run: no raw row is newer than the last ship.
        # The night stops, status 2, naming both times, before anything is exported.
        stale = run_day(sandbox, database, out, "--daily")
        assert stale.exit_code == 2, stale.stderr
        assert "the raw tables hold no version newer than the last ship" in stale.stderr
        assert "--allow-stale-sources" in stale.stderr
        assert stale.received == []
        assert sorted(path.name for path in out.iterdir() if path.is_dir()) == sorted(
            day.folder.name for day in (day1, day2))
        # Told to go on, nothing is exported or sent, not even the order CDP
        # refused, which would only be refused again as it is.
        day3 = run_day(sandbox, database, out, "--daily", "--allow-stale-sources")
        assert day3.exit_code == 0, day3.stderr
        assert day3.received == []
        assert day3.report["export"] is None and day3.report["ship"] is None
        assert day3.report["freshness"]["raw_updated_at"] < day3.report["freshness"][
            "last_shipped_at"]
        assert _delta(day3) == {
            "new_orders": 0, "changed_orders": 0, "retried_orders": 0, "deleted_orders": 0,
            "moved_orders": 0, "rejected_unchanged_orders": 1,
            "unchanged_orders": len(warehouse_orders(database)) - 1,
        }
        assert sandbox_orders(sandbox) == {**warehouse_orders(database), **kept}

        # Day 4: the refused order is fixed at the source, and CDP takes it: it alone
        # is sent, once.
        fix_order(database, orders["refused"])
        faults.lift(reference["refused"])
        day4 = run_day(sandbox, database, out, "--daily")
        assert day4.exit_code == 0, day4.stderr
        assert _delta(day4) == {
            "new_orders": 0, "changed_orders": 0, "retried_orders": 1, "deleted_orders": 0,
            "moved_orders": 0, "rejected_unchanged_orders": 0,
            "unchanged_orders": len(warehouse_orders(database)) - 1,
        }
        assert [(r["mode"], r["referenceId"], r["code"]) for r in day4.received] == [
            ("insert", reference["refused"], 200)]
        quarantined = {(reference["quarantined"], ordered_at["quarantined"]):
                       day1_values[orders["quarantined"]]}
        assert sandbox_orders(sandbox) == {**warehouse_orders(database), **quarantined}
        # One batch folder, and its report beside it, per day that shipped.
        assert sorted(path.name for path in out.iterdir() if path.is_dir()) == sorted(
            day.folder.name for day in (day1, day2, day4))
        assert sorted(path.name for path in out.glob("*.html")) == sorted(
            f"{day.folder.name}.html" for day in (day1, day2, day4))

        everything = sandbox.received()

    # No record was sent twice; the refused order went three times, each time changed:
    # the backfill, its refused change on day 2, its fix on day 4.
    sent_twice = {ref: n for ref, n in Counter(r["ref"] for r in everything).items() if n > 1}
    assert sent_twice == {}
    assert Counter(r["referenceId"] for r in everything)[reference["refused"]] == 3
    deletes = Counter(r["referenceId"] for r in day2.received + day4.received
                      if r["mode"] == "delete")
    assert deletes == Counter({reference[role]: 1 for role in
                               ("deleted", "moved", "test", "rereferenced")})
    # The table holds every record sent, once, with its outcome.
    with duckdb.connect(str(database), read_only=True) as connection:
        recorded = connection.execute(
            "select count(*), count(distinct (batch_ref, record_ref)), "
            "count(*) filter (where outcome = 'rejected' and error_code = '400') "
            "from cdp.cdp_shipped_orders").fetchone()
    assert recorded == (len(everything), len(everything), 1)

    # Recording again, or shipping a finished folder with --database, adds nothing.
    again = record_shipped_state(day2.folder, database)
    assert again == StateCounts(files=2, recorded=0,
                                already_recorded=day2.report["export"]["records"])
    shipped_again = CliRunner().invoke(cli, [
        "ship", str(day2.folder), "--database", str(database), "--base-url",
        "http://127.0.0.1:9", "--client-key", "k", "--api-token", "t", "--json",
        "--no-progress"], catch_exceptions=False)
    assert shipped_again.exit_code == 1  # the day-2 folder keeps its rejected record
    assert json.loads(shipped_again.stdout)["state"]["recorded"] == 0


def warehouse_orders_by_reference(database: Path) -> dict[str, str]:
    """referenceId -> orderedAt of the orders the mart ships."""
    return {reference: at for reference, at in warehouse_orders(database)}


@pytest.fixture
def unbuilt_warehouse(tmp_path) -> Path:
    database = tmp_path / "raw-only.duckdb"
    generate(database, 10, SEED)
    return database


def test_recording_needs_the_table_that_dbt_creates(unbuilt_warehouse, tmp_path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({
        "format": 1, "files": [{"file": "batch-00001.json.gz", "index": "batch-00001.index.tsv",
                                "records": 1, "bytes": 1, "md5": "0" * 32}]}))
    (folder / "ledger.json").write_text(json.dumps({"format": 1, "updated_at": None, "files": {
        "batch-00001.json.gz": {"file": "batch-00001.json.gz", "state": "success",
                                "checksum": "0" * 32, "size": 1,
                                "batchRef": "b", "finished_at": "2030-01-01T00:00:00.000Z"}}}))
    with pytest.raises(LoaderError, match=r"has no table cdp\.cdp_shipped_orders; run `dbt build"):
        record_shipped_state(folder, unbuilt_warehouse)


def test_a_folder_with_no_finished_batch_records_nothing(unbuilt_warehouse, tmp_path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({
        "format": 1, "files": [{"file": "batch-00001.json.gz", "index": "batch-00001.index.tsv",
                                "records": 1, "bytes": 1, "md5": "0" * 32}]}))
    # No ledger: nothing was shipped, so the warehouse is not even opened for writing.
    assert record_shipped_state(folder, unbuilt_warehouse) == StateCounts(files_not_final=1)


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C, pressed as soon as the first batch reached its final status."""


def _interrupt_after_first_batch(file: str, message: str) -> None:
    if file == "batch-00001.json.gz" and message.startswith("batch ") and (
            message.endswith(" success") or " error (" in message):
        raise _Interrupted


def test_a_ship_stopped_half_way_records_the_finished_batch_and_the_resume_the_rest(
        built_warehouse, tmp_path) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, database)
    folder = tmp_path / "batches"
    exported = write_batch_files(iter_record_chunks(database), folder)
    assert [info.records for info in exported.files] == [
        count for (count,) in _counts_by_mode(database)]
    with Sandbox() as sandbox:
        client = BatchApiClient(sandbox.base_url, Credentials(sandbox.client_key,
                                sandbox.api_token), deadline=Deadline(600), backoff_base=0.05)
        with pytest.raises(_Interrupted):
            ship_and_record(folder, client, database=database, poll_interval=0.05,
                            progress=_interrupt_after_first_batch)
        with duckdb.connect(str(database), read_only=True) as connection:
            first = connection.execute(
                "select batch_file, outcome, count(*) from cdp.cdp_shipped_orders "
                "group by all").fetchall()
        resumed = ship_and_record(folder, client, database=database, poll_interval=0.05)
        received = sandbox.received()
    deletes, inserts = (info.records for info in exported.files)
    # The sandbox started empty: every delete was already absent.
    assert first == [("batch-00001.json.gz", "already_absent", deletes)]
    assert resumed.state == StateCounts(files=2, recorded=inserts, already_recorded=deletes,
                                        succeeded=inserts)
    assert len(received) == deletes + inserts
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select batch_file, mode, outcome, count(*), count(distinct record_ref) "
            "from cdp.cdp_shipped_orders group by all order by batch_file").fetchall()
    assert rows == [("batch-00001.json.gz", "delete", "already_absent", deletes, deletes),
                    ("batch-00002.json.gz", "insert", "success", inserts, inserts)]


def _counts_by_mode(database: Path) -> list[tuple[int]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(
            "select count(*) from cdp.cdp_batch_records group by mode "
            "order by min(seq)").fetchall()


def test_ship_record_state_without_a_warehouse_is_refused_before_shipping(tmp_path) -> None:
    result = CliRunner().invoke(cli, [
        "ship", str(tmp_path), "--record-state", "--base-url", "http://127.0.0.1:9",
        "--client-key", "k", "--api-token", "t"], env={"CDP_DUCKDB_PATH": ""})
    assert result.exit_code == 2
    assert result.stderr == ("cdp-loader: --record-state needs the warehouse: give --database "
                             "or set CDP_DUCKDB_PATH\n")
