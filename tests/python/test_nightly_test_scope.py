"""A nightly build tests the orders it rebuilt; a first build, --full-refresh and a plain
`dbt test` test every row (macros/cdp/get_where_subquery.sql, `__orders_rebuilt__`).

The night trusts the rows it left as they were: they passed the night they were
written. To show where the line runs, a row of an order the night does not touch
is edited by hand to break a test: the night passes, `dbt test` does not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.sample_warehouse import generate
from conftest import PROJECT_DIR
from daily_helpers import new_order_version, pick_orders

SAMPLE_ORDERS = 300
SEED = 5
# (generic test, model, column)
CHANNEL_TEST = ("accepted_values_from_seed", "cdp_orders", "channel")
SEQ_TEST = ("unique", "cdp_batch_records", "seq")
SUBQUERY = re.compile(r"from \((select \* from .*?)\) dbt_subquery", re.DOTALL)


def _dbt(database: Path, target: Path, *args: str) -> tuple[int, dict[object, dict]]:
    """A dbt command on DATABASE with its own target folder: its exit status, and its
    results by (generic test, model, column) for tests, and `invocation_id`."""
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--profiles-dir",
         str(PROJECT_DIR / "profiles"), "--target-path", str(target), "--quiet"],
        cwd=PROJECT_DIR, env={**os.environ, "CDP_DUCKDB_PATH": str(database)},
        capture_output=True, text=True, check=False)
    run_results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    results: dict[object, dict] = {"invocation_id": run_results["metadata"]["invocation_id"]}
    for result in run_results["results"]:
        node = nodes.get(result["unique_id"], {})  # unit tests are not nodes
        if node.get("resource_type") == "test" and node.get("test_metadata"):
            attached = (node.get("attached_node") or "").split(".")[-1]
            key = (node["test_metadata"]["name"], attached, node["column_name"])
            results[key] = result
    return completed.returncode, results


def test_a_night_tests_the_orders_it_rebuilt_and_a_plain_dbt_test_every_row(tmp_path) -> None:
    database = tmp_path / "warehouse.duckdb"
    generate(database, SAMPLE_ORDERS, SEED)
    # The first build's models only: its tests are the sample's, run elsewhere.
    run_dbt_build(PROJECT_DIR, database, ("--quiet", "--exclude-resource-type", "test",
                                          "--exclude-resource-type", "unit_test"))
    with duckdb.connect(str(database)) as connection:
        touched, untouched = pick_orders(connection, 2)
        new_order_version(connection, touched, "'cancelled' as status")
        connection.execute("update cdp.cdp_orders set channel = 'NOT A CHANNEL' "
                           "where order_id = ?", [untouched])

    status, night = _dbt(database, tmp_path / "night", "build")
    assert status == 0
    channel = night[CHANNEL_TEST]
    assert channel["status"] == "pass"
    # The night's test read the orders int_orders_touched gave this build, and no other.
    assert "int_orders_touched" in channel["compiled_code"]
    assert night["invocation_id"] in channel["compiled_code"]
    (scope,) = SUBQUERY.findall(channel["compiled_code"])
    with duckdb.connect(str(database), read_only=True) as connection:
        tested = {order_id for (order_id,) in connection.execute(
            f"select order_id from ({scope})").fetchall()}
        rebuilt = {order_id for (order_id,) in connection.execute(
            "select order_id from intermediate.int_orders_touched "
            "where touched_build_id = ? and order_id in (select order_id from cdp.cdp_orders)",
            [night["invocation_id"]]).fetchall()}
    assert touched in tested and untouched not in tested
    assert tested == rebuilt and 0 < len(rebuilt) < SAMPLE_ORDERS / 10
    # seq is renumbered every night: tested whole.
    assert "int_orders_touched" not in night[SEQ_TEST]["compiled_code"]

    # Without int_orders_touched in the invocation, every row: the edited one fails.
    status, plain = _dbt(database, tmp_path / "plain", "test", "--select", "cdp_orders")
    assert status == 1
    channel = plain[CHANNEL_TEST]
    assert (channel["status"], channel["failures"]) == ("fail", 1)
    assert "int_orders_touched" not in channel["compiled_code"]

    # --full-refresh tests every row even beside int_orders_touched.
    status, full = _dbt(database, tmp_path / "full", "compile", "--full-refresh", "--select",
                        "int_orders_touched", "cdp_orders,test_type:generic")
    assert status == 0
    assert "int_orders_touched" not in full[CHANNEL_TEST]["compiled_code"]
