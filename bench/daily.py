"""Benchmark: a daily run with 1% of the orders changed, against the backfill.

Generates a sample warehouse of N orders, builds it, ships the full export (the
backfill, `cdp-loader run`) to a local sandbox, gives 1% of the orders a new
version in the raw tables (a changed total: the order system's nightly
replication), builds again and ships the delta (`cdp-loader run --daily`) to the
same sandbox. dbt build and export+ship are timed apart: the build reads every
order either way; the export and the ship are what the daily run saves.

    .venv/bin/python bench/daily.py                  # 1,000,000 orders
    .venv/bin/python bench/daily.py --orders 100000

Prints the figures and writes them to bench/results/daily-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate
from cdp_loader.sandbox import Sandbox
from cdp_loader.sandbox.orders import MATCH_WINDOW, OrderStore

PROJECT_DIR = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_DIR / "bench" / "results"
CDP_LOADER = Path(sys.executable).parent / "cdp-loader"

# A new version of every order whose hash falls in the share: its total changes by 1.00,
# so the record of a shipped order changes; written now, as the order system does (later
# than the last ship, which `run --daily` checks the raw tables were refreshed by).
CHANGE_SQL = """
insert into raw.orders
select * replace (total_amount + 1 as total_amount,
                  current_timestamp as updated_at)
from raw.orders
where hash(order_id, 'bench-daily') % 10000 < $basis_points
qualify row_number() over (partition by order_id order by updated_at desc) = 1
"""


class _OrdersByReference(list):
    """The order store's list, also indexed by referenceId (kept in step on append/remove)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_reference: dict[str, list[Any]] = {}

    def append(self, order: Any) -> None:
        super().append(order)
        self.by_reference.setdefault(order.reference_id, []).append(order)

    def remove(self, order: Any) -> None:
        super().remove(order)
        self.by_reference[order.reference_id].remove(order)


class _IndexedOrderStore(OrderStore):
    """The sandbox's order store with the 24-hour match looked up by referenceId.

    The sandbox scans every order it holds for each record, which is quadratic:
    a 100,000-order backfill would take hours and measure only that scan. It
    keeps each order's referenceId and orderedAt, not the whole value.
    """

    def __init__(self) -> None:
        super().__init__()
        self._orders = _OrdersByReference()

    def _write(self, mode: str, value: dict[str, Any], batch_ref: str, record_ref: Any) -> Any:
        # Only the keys: a million full order values would not fit beside the warehouse.
        keys = {key: value[key] for key in ("referenceId", "orderedAt") if key in value}
        return super()._write(mode, keys, batch_ref, record_ref)

    def _matches(self, reference_id: str, ordered_at: Any) -> list[Any]:
        candidates = self._orders.by_reference.get(reference_id, ())  # type: ignore[attr-defined]
        return [order for order in candidates
                if abs(order.ordered_at - ordered_at) <= MATCH_WINDOW]


def indexed_sandbox() -> Sandbox:
    """A sandbox whose order store is `_IndexedOrderStore` (same behaviour, linear time)."""
    sandbox = Sandbox()
    store = _IndexedOrderStore()
    # Every part of the sandbox that holds the store gets the indexed one, before it starts.
    sandbox._orders = sandbox._batches.orders = sandbox._context.orders = store
    return sandbox


def timed(label: str, action: Any) -> tuple[float, Any]:
    """Run `action()` and print how long it took."""
    started = time.monotonic()
    result = action()
    seconds = time.monotonic() - started
    print(f"{label:<34}{seconds:>9.1f} s", flush=True)
    return seconds, result


def ship_run(database: Path, out: Path, sandbox: Sandbox, *extra: str) -> dict[str, Any]:
    """`cdp-loader run --skip-dbt --json ...` in a child process; its JSON report."""
    environment = {**os.environ, "CDP_BASE_URL": sandbox.base_url,
                   "CDP_CLIENT_KEY": sandbox.client_key, "CDP_API_TOKEN": sandbox.api_token}
    completed = subprocess.run(
        [str(CDP_LOADER), "run", "--database", str(database), "--project-dir",
         str(PROJECT_DIR), "--out", str(out), "--skip-dbt", "--json", "--no-progress",
         "--poll-interval", "0.2", *extra],
        env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.exit(f"cdp-loader run {' '.join(extra)} failed ({completed.returncode}): "
                 f"{completed.stderr.strip()[-2000:]}")
    return json.loads(completed.stdout)


def change_orders(database: Path, share: float) -> int:
    """Give `share` of the orders a new version; how many orders changed."""
    with duckdb.connect(str(database)) as connection:
        before = connection.execute("select count(*) from raw.orders").fetchone()[0]
        sql = CHANGE_SQL.replace("$basis_points", str(round(share * 10000)))
        connection.execute(sql)
        return connection.execute("select count(*) from raw.orders").fetchone()[0] - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="Where the warehouse and batches go (default: a temp folder).")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="cdp-bench-daily-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / "warehouse.duckdb"
    database.unlink(missing_ok=True)
    print(f"{args.orders:,} orders, {args.changed_share:.1%} changed, in {work}", flush=True)
    figures: dict[str, Any] = {"orders": args.orders, "changed_share": args.changed_share}

    figures["generate_seconds"], _ = timed("generate", lambda: generate(
        database, args.orders, args.seed))
    with indexed_sandbox() as sandbox:
        figures["backfill_dbt_seconds"], _ = timed("backfill: dbt build", lambda: run_dbt_build(
            PROJECT_DIR, database, ("--quiet",)))
        figures["backfill_ship_seconds"], backfill = timed(
            "backfill: export+ship+state", lambda: ship_run(database, work / "batches", sandbox))
        figures["change_seconds"], figures["changed_orders_raw"] = timed(
            "change orders in raw", lambda: change_orders(database, args.changed_share))
        figures["daily_dbt_seconds"], _ = timed("daily: dbt build", lambda: run_dbt_build(
            PROJECT_DIR, database, ("--quiet",)))
        figures["daily_ship_seconds"], daily = timed(
            "daily: export+ship+state",
            lambda: ship_run(database, work / "batches", sandbox, "--daily"))
    figures.update({
        "backfill_records": backfill["export"]["records"],
        "backfill_bytes": backfill["export"]["bytes"],
        "daily_records": daily["export"]["records"] if daily["export"] else 0,
        "daily_bytes": daily["export"]["bytes"] if daily["export"] else 0,
        "delta": daily["delta"],
        "backfill_seconds": figures["backfill_dbt_seconds"] + figures["backfill_ship_seconds"],
        "daily_seconds": figures["daily_dbt_seconds"] + figures["daily_ship_seconds"],
    })
    figures["ship_ratio"] = figures["daily_ship_seconds"] / figures["backfill_ship_seconds"]
    figures["total_ratio"] = figures["daily_seconds"] / figures["backfill_seconds"]
    figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "duckdb": duckdb.__version__}
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    for run in ("backfill", "daily"):
        print(f"{run + ':':<10}{figures[run + '_records']:>10,} records, "
              f"{figures[run + '_seconds']:.1f} s (export+ship "
              f"{figures[run + '_ship_seconds']:.1f} s)")
    print(f"ratio daily/backfill: export+ship {figures['ship_ratio']:.3f}, "
          f"with dbt build {figures['total_ratio']:.3f}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    target = RESULTS_DIR / f"daily-{args.orders}.json"
    target.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(f"written to {target}")


if __name__ == "__main__":
    main()
