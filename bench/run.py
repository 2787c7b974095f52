"""The backfill benchmark: every stage at a chosen size, as separate processes, in one table.

    .venv/bin/python bench/run.py --orders 100000
    .venv/bin/python bench/run.py --orders 100000,1000000   # scaling between sizes
    make bench ORDERS=1000000

Each stage runs as a child process and its peak resident memory is the
child's own (os.wait4), so the figure is that stage's. Stages: sample
warehouse, dbt models (seeds and models of a backfill: selectors.yml), dbt
tests (their data and unit tests), dbt daily delta (the rest of `dbt build`),
export, validate, ship to a sandbox started for the run; then, on the same
records, DuckDB's own gzip writer and the hand-written baselines
(bench/baseline_export.py: json.dumps per row, and the stored line); the
uncompressed bytes of DuckDB's lines and of the stored-line baseline are
checked equal to the export's, the json.dumps baseline's line count too.
Figures go to bench/results/<UTC time>-<orders>.json.

MB is decimal megabytes of what the stage is about: the warehouse file for
`generate` and the dbt stages (after and before), the uncompressed NDJSON
lines for export, validate, ship and the comparisons.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
from isal import igzip

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = PROJECT / "bench" / "results"
SANDBOX_KEY = "sandbox-key"
SANDBOX_TOKEN = "sandbox-token"  # the sandbox's public default, not a secret
EXPORT_STAGES = ("export", "duckdb COPY lines", "duckdb COPY json", "baseline (json.dumps)",
                 "baseline (stored line)")


@dataclass
class Stage:
    """One stage's figures."""

    name: str
    seconds: float
    rows: int
    bytes: int
    peak_rss_bytes: int
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0


@dataclass
class Run:
    """Every stage of one size, with the machine it ran on."""

    orders: int
    started: str
    machine: dict[str, Any]
    stages: list[Stage] = field(default_factory=list)
    comparisons: dict[str, float] = field(default_factory=dict)

    def stage(self, name: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.name == name), None)


def machine() -> dict[str, Any]:
    """What the figures depend on: cores, memory, CPU, versions, load."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt-core": metadata.version("dbt-core"),
        "dbt-duckdb": metadata.version("dbt-duckdb"),
        "isal": metadata.version("isal"),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def run_child(argv: list[str], log: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run `argv` to its end; return (wall seconds, its peak resident bytes). Fails loudly."""
    started = time.perf_counter()
    with log.open("ab") as output:
        output.write(f"\n$ {' '.join(argv)}\n".encode())
        output.flush()
        child = subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"bench: {argv[0]} {argv[1]} failed (exit {child.returncode}); see {log}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports KiB


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: the sandbox did not listen on port {port}")


_MART_LINES = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
connection.execute("set enable_progress_bar = false")
print(*connection.execute(
    "select count(*), coalesce(sum(octet_length(encode(record)) + 1), 0) "
    "from cdp.cdp_batch_records").fetchone())
"""


def mart_lines(database: Path) -> tuple[int, int]:
    """(records, uncompressed NDJSON bytes) of the mart.

    Asked in a child: a forked child's peak memory starts at its parent's, so
    the parent must never hold DuckDB's buffers.
    """
    output = subprocess.run([sys.executable, "-c", _MART_LINES, str(database)],
                            check=True, capture_output=True, text=True).stdout.split()
    return int(output[0]), int(output[1])


def gzip_blocks(paths: list[Path]) -> Iterator[bytes]:
    """The uncompressed content of the files, one after another, 16 MiB at a time."""
    for path in paths:
        with igzip.open(path, "rb") as handle:
            while block := handle.read(1 << 24):
                yield block


def md5_of_gzip_files(paths: list[Path]) -> str:
    """MD5 of the concatenated uncompressed content of the files."""
    digest = hashlib.md5(usedforsecurity=False)
    for block in gzip_blocks(paths):
        digest.update(block)
    return digest.hexdigest()


def count_gzip_lines(path: Path) -> int:
    """Lines of a gzip file (its records, for NDJSON)."""
    return sum(block.count(b"\n") for block in gzip_blocks([path]))


class Suite:
    """The stages of one size, in a work folder of their own."""

    def __init__(self, orders: int, seed: int, work: Path, compare: bool,
                 warehouse: Path | None = None, ship: bool = True,
                 validate: bool = True, delta: bool = True) -> None:
        self.orders = orders
        self.seed = seed
        self.work = work
        self.compare = compare
        self.built = warehouse is not None
        self.ship = ship
        self.validate = validate
        self.delta = delta
        self.database = warehouse or work / "warehouse.duckdb"
        self.batches = work / "batches"
        self.log = work / "bench.log"
        self.run = Run(orders, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"), machine())
        self.env = {**os.environ, "CDP_DUCKDB_PATH": str(self.database)}
        self.env.pop("CDP_BASE_URL", None)

    def record(self, stage: Stage) -> None:
        self.run.stages.append(stage)
        print(f"  {stage.name:<24} {stage.seconds:9.1f} s  {stage.peak_rss_bytes / 2**20:8.0f} MiB",
              flush=True)

    def timed(self, name: str, argv: list[str], rows: int, size: int, note: str = "",
              env: dict[str, str] | None = None) -> Stage:
        seconds, peak = run_child(argv, self.log, env or self.env)
        stage = Stage(name, round(seconds, 3), rows, size, peak, note)
        self.record(stage)
        return stage

    def generate(self) -> None:
        self.database.unlink(missing_ok=True)
        seconds, peak = run_child(
            [str(BIN / "cdp-loader"), "sample-warehouse", "--orders", str(self.orders),
             "--seed", str(self.seed), "--database", str(self.database)], self.log, self.env)
        self.record(Stage("generate", round(seconds, 3), self.orders,
                          self.database.stat().st_size, peak))

    def dbt(self) -> None:
        dbt = str(BIN / "dbt")
        profiles = ["--profiles-dir", str(PROJECT / "profiles"), "--quiet"]
        backfill = ["--selector", "backfill"]
        raw_bytes = self.database.stat().st_size
        self.timed("dbt models", [dbt, "build", *profiles, *backfill,
                                  "--exclude-resource-type", "test",
                                  "--exclude-resource-type", "unit_test"],
                   self.orders, raw_bytes, "seeds and models of a backfill (`cdp-loader run`)")
        self.timed("dbt tests", [dbt, "test", *profiles, *backfill], self.orders,
                   self.database.stat().st_size, "their data and unit tests, by `dbt test`")
        if not self.delta:
            return
        self.timed("dbt daily delta", [dbt, "build", *profiles, "--select",
                                       "cdp_batch_records_delta+"], self.orders,
                   self.database.stat().st_size,
                   "the rest of a whole `dbt build`: the delta (`run --daily`), with its tests")

    def export_validate_ship(self, records: int, line_bytes: int) -> None:
        loader = str(BIN / "cdp-loader")
        shutil.rmtree(self.batches, ignore_errors=True)
        self.timed("export", [loader, "export", "--no-progress", "--out", str(self.batches),
                              "--database", str(self.database)], records, line_bytes)
        if self.validate:
            export = self.run.stage("export")
            validate = self.timed("validate", [loader, "validate", str(self.batches)], records,
                                  line_bytes, "every check, every mode (issue 15: <= export)")
            if export is not None:
                self.run.comparisons["validate time / export time"] = round(
                    validate.seconds / export.seconds, 2)
        if self.ship:
            self.ship_to_sandbox(records, line_bytes)

    def ship_to_sandbox(self, records: int, line_bytes: int) -> None:
        loader = str(BIN / "cdp-loader")
        port = free_port()
        sandbox_env = {**self.env, "CDP_CLIENT_KEY": SANDBOX_KEY, "CDP_API_TOKEN": SANDBOX_TOKEN}
        with self.log.open("ab") as output:
            sandbox = subprocess.Popen([loader, "sandbox", "--port", str(port)], cwd=PROJECT,
                                       env=sandbox_env, stdout=output, stderr=output)
        try:
            wait_for_port(port)
            self.timed("ship (to the sandbox)",
                       [loader, "ship", str(self.batches), "--base-url",
                        f"http://127.0.0.1:{port}", "--poll-interval", "0.1",
                        "--no-record-state", "--no-progress", "--json"],
                       records, line_bytes, "one batch in flight, as CDP advises",
                       env=sandbox_env)
        finally:
            sandbox.terminate()
            _, _, usage = os.wait4(sandbox.pid, 0)
            sandbox.returncode = 0
        self.record(Stage("sandbox (the server)", 0.0, records, line_bytes,
                          usage.ru_maxrss * 1024, "not the loader: holds every record it took"))

    def comparisons(self, records: int, line_bytes: int) -> None:
        python = sys.executable
        bench = PROJECT / "bench"
        export_md5 = md5_of_gzip_files(sorted(self.batches.glob("batch-*.json.gz")))
        lines_out = self.work / "duckdb-lines.csv.gz"
        self.timed("duckdb COPY lines", [python, str(bench / "duckdb_copy.py"), "--database",
                                         str(self.database), "--out", str(lines_out),
                                         "--format", "lines"], records, line_bytes,
                   "FORMAT CSV of the record column: the export's exact lines")
        json_out = self.work / "duckdb-json.json.gz"
        self.timed("duckdb COPY json", [python, str(bench / "duckdb_copy.py"), "--database",
                                        str(self.database), "--out", str(json_out),
                                        "--format", "json"], records, line_bytes,
                   'FORMAT JSON of record::json: lines wrapped in {"record": ...}')
        baseline_out = self.work / "baseline.json.gz"
        self.timed("baseline (json.dumps)", [python, str(bench / "baseline_export.py"),
                                             "--database", str(self.database),
                                             "--out", str(baseline_out), "--per-row", "dumps"],
                   records, line_bytes, "bench/baseline_export.py: json.dumps per row, gzip")
        if count_gzip_lines(baseline_out) != records:
            raise SystemExit("bench: the json.dumps baseline wrote another number of records")
        line_out = self.work / "baseline-line.json.gz"
        self.timed("baseline (stored line)", [python, str(bench / "baseline_export.py"),
                                              "--database", str(self.database),
                                              "--out", str(line_out), "--per-row", "line"],
                   records, line_bytes, "bench/baseline_export.py: the stored line, gzip")
        for name, path in (("duckdb COPY lines", lines_out), ("baseline (stored line)",
                                                              line_out)):
            if md5_of_gzip_files([path]) != export_md5:
                raise SystemExit(f"bench: {name} wrote other lines than the export")
        export = self.run.stage("export")
        assert export is not None
        for name in EXPORT_STAGES[1:]:
            other = self.run.stage(name)
            assert other is not None
            self.run.comparisons[f"export speed-up over {name}"] = round(
                other.seconds / export.seconds, 2)
        for path in (lines_out, json_out, baseline_out, line_out):
            path.unlink(missing_ok=True)

    def execute(self) -> Run:
        self.work.mkdir(parents=True, exist_ok=True)
        print(f"\n== {self.orders:,} orders in {self.work}", flush=True)
        if not self.built:
            self.generate()
            self.dbt()
        records, line_bytes = mart_lines(self.database)
        self.export_validate_ship(records, line_bytes)
        if self.compare:
            self.comparisons(records, line_bytes)
        self.run.machine["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
        return self.run


def table(run: Run) -> str:
    """The run's stages as a Markdown table."""
    rows = [
        f"| stage ({run.orders:,} orders) | wall s | rows | rows/s | MB | MB/s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for stage in run.stages:
        seconds = f"{stage.seconds:.1f}" if stage.seconds else "-"
        rate = f"{stage.rows_per_second:,.0f}" if stage.seconds else "-"
        mb_rate = f"{stage.mb_per_second:.1f}" if stage.seconds else "-"
        rows.append(f"| {stage.name} | {seconds} | {stage.rows:,} | {rate} | "
                    f"{stage.bytes / 1e6:,.0f} | {mb_rate} | "
                    f"{stage.peak_rss_bytes / 2**20:,.0f} |")
    lines = "\n".join(rows)
    if run.comparisons:
        lines += "\n\n" + "\n".join(f"- {name}: {value}x" for name, value in
                                    run.comparisons.items())
    return lines


def scaling(runs: list[Run]) -> str:
    """Time per order of each stage between consecutive sizes."""
    if len(runs) < 2:
        return ""
    header = "| stage | " + " | ".join(f"µs/order at {run.orders:,}" for run in runs)
    header += " | " + " | ".join(f"{b.orders:,} / {a.orders:,}" for a, b in
                                 itertools.pairwise(runs)) + " |"
    lines = [header, "| --- |" + " ---: |" * (2 * len(runs) - 1)]
    for stage in runs[0].stages:
        per_order = []
        for run in runs:
            other = run.stage(stage.name)
            per_order.append(other.seconds / run.orders * 1e6 if other and other.seconds else 0)
        if not all(per_order):
            continue
        ratios = [f"{b / a:.2f}" for a, b in itertools.pairwise(per_order)]
        lines.append(f"| {stage.name} | " + " | ".join(f"{value:.1f}" for value in per_order)
                     + " | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def save(run: Run) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{run.started}-{run.orders}.json"
    document = asdict(run)
    for stage, figures in zip(run.stages, document["stages"], strict=True):
        figures["rows_per_second"] = round(stage.rows_per_second, 1)
        figures["mb_per_second"] = round(stage.mb_per_second, 2)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the backfill benchmark at given sizes.")
    parser.add_argument("--orders", default="100000",
                        help="orders per run; several comma-separated for scaling")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cdp-bench"),
                        help="where warehouses and batch files go (removed unless --keep)")
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and files")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip DuckDB's writer and the baseline")
    parser.add_argument("--warehouse", type=Path,
                        help="a warehouse dbt already built for --orders: start at export")
    parser.add_argument("--no-ship", action="store_true",
                        help="skip shipping (the sandbox takes ~2 ms a record)")
    parser.add_argument("--no-validate", action="store_true",
                        help="skip validate (about as long as export)")
    parser.add_argument("--no-delta", action="store_true",
                        help="skip the daily delta, which a backfill does not build (2 GB "
                             "of disk per million orders)")
    args = parser.parse_args()
    sizes = [int(size.replace("_", "")) for size in args.orders.split(",")]
    if args.warehouse and len(sizes) > 1:
        parser.error("--warehouse goes with one size")
    runs = []
    for orders in sizes:
        work = args.work / str(orders)
        # A failed run keeps its folder: bench.log in it says what failed.
        run = Suite(orders, args.seed, work, not args.no_compare, args.warehouse,
                    not args.no_ship, not args.no_validate, not args.no_delta).execute()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        runs.append(run)
        print(f"\n{table(run)}\n\nfigures: {save(run).relative_to(PROJECT)}", flush=True)
    if len(runs) > 1:
        print(f"\n{scaling(runs)}")


if __name__ == "__main__":
    main()
