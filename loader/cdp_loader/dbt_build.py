"""Runs `dbt build` of the project against the loader's dbt target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cdp_loader.errors import LoaderError
from cdp_loader.interrupts import deferred
from cdp_loader.warehouse import Target, duckdb_target

# selectors.yml: every model and test but the daily delta, which a full
# export does not read and which, until something was shipped, stores every
# line a second time (2 GB and 10 s of the build per million orders).
BACKFILL_SELECTOR = "backfill"
# The job's builds test the data, not the models' code: unit tests are for
# development and CI (`make dbt-test` runs them), as dbt recommends, and cost
# a night more than its data tests (17 unit tests, 2-4 s each on 2 cores).
JOB_BUILD_ARGS = ("--exclude-resource-type", "unit_test")
_STOP_SECONDS = 20


def run_dbt_build(project_dir: Path, target: Target | Path,
                  extra_args: tuple[str, ...] = ()) -> None:
    """Build and test the mart of TARGET (or a DuckDB file); a failed model or test is a
    LoaderError.

    dbt runs in a child process: dbt-duckdb keeps its connection open for the
    life of the process, which would stop the loader from opening the file (and
    a local Spark catalog is opened by one process at a time). dbt reads the
    warehouse path from CDP_DUCKDB_PATH through the shipped profile.
    """
    if not isinstance(target, Target):
        target = duckdb_target(Path(target))
    project_dir = Path(project_dir).resolve()
    if not (project_dir / "dbt_project.yml").exists():
        raise LoaderError(f"no dbt_project.yml in {project_dir} (give --project-dir)")
    dbt = Path(sys.executable).parent / "dbt"
    if not dbt.exists():
        raise LoaderError(f"dbt is not installed beside {sys.executable}")
    environment = dict(os.environ)
    if target.type == "duckdb":
        environment["CDP_DUCKDB_PATH"] = str(Path(target.settings["path"]).resolve())
    command = [str(dbt), "build", "--profiles-dir", str(project_dir / "profiles"),
               "--target", target.name, *extra_args]
    child: subprocess.Popen[bytes] | None = None
    try:
        with deferred():  # a signal while the child starts comes once it has started
            child = subprocess.Popen(command, cwd=project_dir, env=environment)
        returncode = child.wait()
    except BaseException:
        # Interrupted: dbt must not go on alone, holding the warehouse's lock.
        if child is not None:
            _stop(child)
        raise
    if returncode != 0:
        raise LoaderError(f"dbt build failed (exit {returncode}); its log above says why")


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM (dbt cancels its queries and exits), then SIGKILL if it takes too long."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
