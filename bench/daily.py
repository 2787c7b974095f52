"""Benchmark: a night with 1% of the orders changed, against the backfill (issue 12's goals).

Generates a sample warehouse of N orders, builds it as `cdp-loader run` does
(`--selector backfill`), ships the full export to a local sandbox and records
it, gives 1% of the orders a new version in the raw tables (a changed total:
the order system's nightly replication), builds again as `run --daily` does
(the whole project, incrementally) and ships the delta. The same on a tiny
warehouse first: its builds are the fixed cost of a build (parse, seeds, one
query per model and test), which the nightly build's share is measured above.
Prints each build's models and tests and its slowest nodes, the warehouse
size after the backfill and after the night.

    .venv/bin/python bench/daily.py                  # 1,000,000 orders
    .venv/bin/python bench/daily.py --orders 100000

Writes the figures to bench/results/daily-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cdp_loader.dbt_build import JOB_BUILD_ARGS, run_dbt_build
from cdp_loader.sample_warehouse import generate
from cdp_loader.sandbox import Sandbox
from cdp_loader.sandbox.orders import OrderStore

PROJECT_DIR = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_DIR / "bench" / "results"
CDP_LOADER = Path(sys.executable).parent / "cdp-loader"
SLOWEST = 8

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


class _KeysOnlyOrderStore(OrderStore):
    """The sandbox's order store keeping each order's referenceId and orderedAt only:
    a million full order values would not fit beside the warehouse and the build."""

    def _write(self, mode: str, value: dict[str, Any], batch_ref: str, record_ref: Any) -> Any:
        keys = {key: value[key] for key in ("referenceId", "orderedAt") if key in value}
        return super()._write(mode, keys, batch_ref, record_ref)


def keys_only_sandbox() -> Sandbox:
    """A sandbox whose order store is `_KeysOnlyOrderStore` (same matching, less memory)."""
    sandbox = Sandbox()
    store = _KeysOnlyOrderStore()
    # Every part of the sandbox that holds the store gets this one, before it starts.
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


def build(database: Path, *args: str) -> dict[str, Any]:
    """`dbt build` as the loader runs it; seconds, models' and tests' seconds, slowest nodes."""
    started = time.monotonic()
    run_dbt_build(PROJECT_DIR, database, ("--quiet", *JOB_BUILD_ARGS, *args))
    seconds = time.monotonic() - started
    results = json.loads((PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    by_type: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        by_type[kind] = by_type.get(kind, 0.0) + result["execution_time"]
    slowest = sorted(results, key=lambda result: -result["execution_time"])[:SLOWEST]
    return {"seconds": seconds, "models_seconds": by_type.get("model", 0.0),
            "tests_seconds": by_type.get("test", 0.0) + by_type.get("unit_test", 0.0),
            "slowest": [(result["unique_id"].split(".")[-1], round(result["execution_time"], 1))
                        for result in slowest]}


def warehouse_bytes(database: Path) -> int:
    """The warehouse file with its write-ahead log."""
    wal = database.with_name(database.name + ".wal")
    return database.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def measure(orders: int, seed: int, share: float, work: Path,
            keep_night_start: bool = False) -> dict[str, Any]:
    """A backfill and one night of N orders in WORK; every figure of it."""
    work.mkdir(parents=True, exist_ok=True)
    database = work / "warehouse.duckdb"
    database.unlink(missing_ok=True)
    print(f"{orders:,} orders, {share:.1%} changed, in {work}", flush=True)
    figures: dict[str, Any] = {"orders": orders, "changed_share": share}
    figures["generate_seconds"], _ = timed("generate", lambda: generate(database, orders, seed))
    with keys_only_sandbox() as sandbox:
        # What `cdp-loader run` builds: everything but the delta (selectors.yml).
        _, figures["backfill_build"] = timed("backfill: dbt build", lambda: build(
            database, "--selector", "backfill"))
        figures["backfill_ship_seconds"], backfill = timed(
            "backfill: export+ship+record", lambda: ship_run(database, work / "batches", sandbox))
        figures["backfill_warehouse_bytes"] = warehouse_bytes(database)
        figures["change_seconds"], figures["changed_orders_raw"] = timed(
            "change orders in raw", lambda: change_orders(database, share))
        if keep_night_start:
            # A copy to build the same night again from, while changing the models.
            shutil.copyfile(database, work / "night-start.duckdb")
        # What `cdp-loader run --daily` builds: everything, incrementally.
        _, figures["nightly_build"] = timed("nightly: dbt build", lambda: build(database))
        figures["nightly_ship_seconds"], nightly = timed(
            "nightly: export+ship+record",
            lambda: ship_run(database, work / "batches", sandbox, "--daily"))
        figures["nightly_warehouse_bytes"] = warehouse_bytes(database)
    figures.update({
        "backfill_records": backfill["export"]["records"],
        "nightly_records": nightly["export"]["records"] if nightly["export"] else 0,
        "delta": nightly["delta"],
        "backfill_seconds": figures["backfill_build"]["seconds"] + figures["backfill_ship_seconds"],
        "nightly_seconds": figures["nightly_build"]["seconds"] + figures["nightly_ship_seconds"],
    })
    for run in ("backfill", "nightly"):
        built = figures[run + "_build"]
        print(f"{run + ':':<10}{figures[run + '_records']:>10,} records, "
              f"{figures[run + '_seconds']:.1f} s: dbt build {built['seconds']:.1f} s (models "
              f"{built['models_seconds']:.1f}, tests {built['tests_seconds']:.1f}), export+ship+"
              f"record {figures[run + '_ship_seconds']:.1f} s; warehouse "
              f"{figures[run + '_warehouse_bytes'] / 1e9:.2f} GB", flush=True)
        print(f"{'':<10}slowest: " + ", ".join(f"{name} {seconds}"
                                                for name, seconds in built["slowest"]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--tiny", type=int, default=2_000,
                        help="The warehouse whose builds give the fixed cost of a build.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--changed-share", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="Where the warehouses and batches go (default: a temp folder).")
    parser.add_argument("--keep-night-start", action="store_true",
                        help="Copy each warehouse to night-start.duckdb before its night.")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="cdp-bench-daily-"))
    tiny = measure(args.tiny, args.seed, args.changed_share, work / f"{args.tiny}",
                   args.keep_night_start)
    figures = measure(args.orders, args.seed, args.changed_share, work / f"{args.orders}",
                      args.keep_night_start)
    figures["tiny"] = tiny
    # The nightly build's cost above a build's fixed cost, against the backfill's.
    above_fixed = (figures["nightly_build"]["seconds"] - tiny["nightly_build"]["seconds"]) / (
        figures["backfill_build"]["seconds"] - tiny["backfill_build"]["seconds"])
    figures["nightly_share_above_fixed"] = above_fixed
    figures["warehouse_gb_per_million_orders"] = (
        figures["nightly_warehouse_bytes"] / 1e9 / (args.orders / 1e6))
    figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "duckdb": duckdb.__version__, "load_average": os.getloadavg()}
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"nightly run: {figures['nightly_seconds']:.1f} s; nightly build above the fixed cost "
          f"({tiny['nightly_build']['seconds']:.1f} s at {args.tiny:,}) as a share of the "
          f"backfill's: {above_fixed:.3f}; warehouse after a night: "
          f"{figures['warehouse_gb_per_million_orders']:.2f} GB per million orders")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    target = RESULTS_DIR / f"daily-{args.orders}.json"
    target.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(f"written to {target}")


if __name__ == "__main__":
    main()
