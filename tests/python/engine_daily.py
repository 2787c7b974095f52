"""The multi-day daily sync of test_daily_sync.py, on any engine the loader reaches.

The order system's changes are made to a DuckDB copy of the raw tables and
replicated whole into the engine's schema `raw` each night (as a replication
job would); `cdp-loader run` then runs as a user runs it, in its own process,
with CDP_DBT_TARGET set and no DuckDB file: dbt builds in the engine, the
loader exports from it and records the shipped state into it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

import cdp_loader
from cdp_loader.sample_warehouse import generate
from cdp_loader.sandbox import Sandbox
from daily_helpers import (
    NEW_REFERENCES,
    Day,
    LiftableRejections,
    change_day_2,
    fix_order,
    pick_orders,
    sandbox_orders,
)

PROJECT = Path(__file__).resolve().parents[2]
LOADER_PATH = Path(cdp_loader.__file__).resolve().parents[1]
DAILY_ORDERS = 300
DAILY_SEED = 11
ROLES = ("status", "price", "attribute", "deleted", "moved", "test", "rereferenced",
         "quarantined", "refused", "copied")
# Queries the scenario asks the engine, by name (the mart schema is `cdp`).
QUERIES = {
    "inserts": "select order_id, record from cdp.cdp_batch_records where mode = 'insert'",
    "orders": "select order_id, status, reference_id from cdp.cdp_orders",
    "shipped": "select batch_ref, record_ref, outcome, error_code from cdp.cdp_shipped_orders",
}


@dataclass
class Engine:
    """How the scenario reaches one engine: its target, its settings, raw loading, queries."""

    target: str
    env: dict[str, str]
    load_raw: Callable[[Path], None]  # replicate a DuckDB file's raw tables into the engine
    query: Callable[[dict[str, str]], dict[str, list[tuple]]]  # name -> sql, to name -> rows


def run_loader(engine: Engine, sandbox: Sandbox, out: Path, work: Path, *options: str) -> Day:
    """`cdp-loader run` in a process of its own, on the engine's target."""
    before = len(sandbox.received())
    env = {**os.environ, **engine.env, "CDP_DBT_TARGET": engine.target,
           "PYTHONPATH": str(LOADER_PATH), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_TARGET_PATH": str(work / "dbt-target"), "DBT_LOG_PATH": str(work / "dbt-logs")}
    env.pop("CDP_DUCKDB_PATH", None)
    result = subprocess.run([
        sys.executable, "-m", "cdp_loader.cli", "run", "--project-dir", str(PROJECT),
        "--out", str(out), "--base-url", sandbox.base_url, "--client-key", sandbox.client_key,
        "--api-token", sandbox.api_token, "--poll-interval", "0.05", "--no-progress", "--json",
        *options], env=env, cwd=work, capture_output=True, text=True, check=False)
    # dbt build, a child of the run, prints its log to the same stdout before the report.
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    return Day(result.returncode, report, sandbox.received()[before:],
               result.stderr[-3000:] + result.stdout[-6000:])


def _orders(rows: list[tuple]) -> dict[tuple[str, str], dict[str, Any]]:
    values = [json.loads(record)["value"] for _order_id, record in rows]
    return {(value["referenceId"], value["orderedAt"]): value for value in values}


def _pick(raw: Path, work: Path, orders_rows: list[tuple]) -> list[int]:
    """daily_helpers.pick_orders over the raw tables and the engine's cdp_orders."""
    pick = work / "pick.duckdb"
    shutil.copyfile(raw, pick)
    with duckdb.connect(str(pick)) as connection:
        connection.execute("create schema cdp")
        connection.execute("create table cdp.cdp_orders (order_id bigint, status varchar, "
                           "reference_id varchar)")
        connection.executemany("insert into cdp.cdp_orders values (?, ?, ?)", orders_rows)
        return pick_orders(connection, len(ROLES))


def daily_scenario(engine: Engine, work: Path) -> None:
    """Backfill, a night of changes with one refused order, a night of none (stopped as
    stale, then told to go on), the fix."""
    raw = work / "orders.duckdb"  # not raw.duckdb: its catalog would shadow schema raw
    generate(raw, DAILY_ORDERS, DAILY_SEED)
    engine.load_raw(raw)
    out = work / "batches"
    faults = LiftableRejections()
    with Sandbox(faults=faults) as sandbox:
        day1 = run_loader(engine, sandbox, out, work)
        assert day1.exit_code == 0, day1.stderr
        assert day1.report["state"]["recorded"] == day1.report["export"]["records"]
        seen = engine.query(QUERIES)
        assert sandbox_orders(sandbox) == _orders(seen["inserts"])

        orders = dict(zip(ROLES, _pick(raw, work, seen["orders"]), strict=True))
        values = {order_id: json.loads(record)["value"] for order_id, record in seen["inserts"]}
        reference = {role: values[order_id]["referenceId"] for role, order_id in orders.items()}
        ordered_at = {role: values[order_id]["orderedAt"] for role, order_id in orders.items()}

        change_day_2(raw, orders, values)
        engine.load_raw(raw)
        faults.add(f"reject={reference['refused']}")
        day2 = run_loader(engine, sandbox, out, work, "--daily")
        assert day2.exit_code == 1, day2.stderr
        current = engine.query(QUERIES)
        shipped = _orders(current["inserts"])
        assert day2.report["delta"] == {
            "new_orders": 2, "changed_orders": 6, "retried_orders": 0, "deleted_orders": 2,
            "moved_orders": 2, "rejected_unchanged_orders": 0,
            "unchanged_orders": len(shipped) - 2 - 6}
        assert sorted(day2.sent("insert")) == sorted([
            *NEW_REFERENCES, reference["status"], reference["price"], reference["attribute"],
            reference["moved"], "ZZNEWREF", reference["refused"]])
        assert sorted(day2.sent("delete")) == sorted(
            reference[role] for role in ("deleted", "moved", "test", "rereferenced"))
        assert day2.report["state"]["rejected"] == 1
        kept = {(reference[role], ordered_at[role]): values[orders[role]]
                for role in ("quarantined", "refused")}
        assert sandbox_orders(sandbox) == {**shipped, **kept}

        # No replication since the last ship: the night stops, then goes on when told.
        stale = run_loader(engine, sandbox, out, work, "--daily")
        assert stale.exit_code == 2, stale.stderr
        assert "the raw tables hold no version newer than the last ship" in stale.stderr
        assert stale.received == []
        day3 = run_loader(engine, sandbox, out, work, "--daily", "--allow-stale-sources")
        assert day3.exit_code == 0, day3.stderr
        assert day3.received == []
        assert day3.report["export"] is None
        assert day3.report["delta"]["rejected_unchanged_orders"] == 1

        fix_order(raw, orders["refused"])
        engine.load_raw(raw)
        faults.lift(reference["refused"])
        day4 = run_loader(engine, sandbox, out, work, "--daily")
        assert day4.exit_code == 0, day4.stderr
        assert [(r["mode"], r["referenceId"], r["code"]) for r in day4.received] == [
            ("insert", reference["refused"], 200)]
        final = engine.query(QUERIES)
        quarantined = {(reference["quarantined"], ordered_at["quarantined"]):
                       values[orders["quarantined"]]}
        # Every order's final state in CDP is the warehouse's (and CDP's copy of the
        # quarantined order, which the warehouse no longer ships).
        assert sandbox_orders(sandbox) == {**_orders(final["inserts"]), **quarantined}
        everything = sandbox.received()

    sent_twice = {ref: n for ref, n in Counter(r["ref"] for r in everything).items() if n > 1}
    assert sent_twice == {}
    # The engine holds the shipped state: every record sent, once, with its outcome.
    recorded = final["shipped"]
    assert len(recorded) == len(everything)
    assert len({(batch_ref, ref) for batch_ref, ref, _o, _c in recorded}) == len(everything)
    assert [(o, c) for _b, _r, o, c in recorded if o == "rejected"] == [("rejected", "400")]
