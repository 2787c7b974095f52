"""Helpers of the multi-day sync test: the order system's changes as SQL, runs, sandbox views."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner

from cdp_loader.cli import cli
from cdp_loader.sandbox import FaultPlan, Sandbox
from conftest import PROJECT_DIR

# Now, as the order system writes a version: later than any the sample
# generator writes (up to early 2026) and than the last ship, which is what
# `run --daily` checks the raw tables were refreshed by.
NEW_VERSION_AT = "current_timestamp"
NEW_ORDER_ID_BASE = 9_000_000
NEW_LINE_ID_OFFSET = 90_000_000
NEW_REFERENCES = ("DAILYNEWA", "DAILYNEWB")


class LiftableRejections(FaultPlan):
    """The sandbox's fault plan, plus `lift`: CDP stops refusing a referenceId (the fix)."""

    def __init__(self) -> None:
        super().__init__()
        self.lifted: set[str] = set()

    def lift(self, reference_id: str) -> None:
        self.lifted.add(reference_id)

    def rejection(self, line_number: int, reference_id: object) -> str | None:
        if reference_id in self.lifted:
            return None
        return super().rejection(line_number, reference_id)


@dataclass
class Day:
    """One run of the loader and what the sandbox received during it."""

    exit_code: int
    report: dict[str, Any]
    received: list[dict[str, Any]]
    stderr: str

    @property
    def folder(self) -> Path | None:
        export = self.report.get("export")
        return Path(export["folder"]) if export else None

    def sent(self, mode: str) -> list[str]:
        """The referenceIds of the records of `mode`, in arrival order."""
        return [record["referenceId"] for record in self.received if record["mode"] == mode]


def run_day(sandbox: Sandbox, database: Path, out: Path, *options: str) -> Day:
    """`cdp-loader run` with a dbt build, shipping to the sandbox kept across days."""
    before = len(sandbox.received())
    result = CliRunner().invoke(cli, [
        "run", "--database", str(database), "--project-dir", str(PROJECT_DIR),
        "--out", str(out), "--base-url", sandbox.base_url, "--client-key", sandbox.client_key,
        "--api-token", sandbox.api_token, "--poll-interval", "0.05", "--no-progress", "--json",
        *options,
    ], catch_exceptions=False)
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return Day(result.exit_code, report, sandbox.received()[before:], result.stderr)


def file_modes(folder: Path) -> list[set[str]]:
    """The modes found in each batch file of a folder, in manifest order."""
    manifest = json.loads((folder / "manifest.json").read_text())
    modes = []
    for item in manifest["files"]:
        lines = gzip.decompress((folder / item["file"]).read_bytes()).splitlines()
        modes.append({json.loads(line)["mode"] for line in lines})
    return modes


def batches_by_mode(received: list[dict[str, Any]]) -> list[tuple[str, set[str]]]:
    """(batchRef, modes in it) in arrival order: one entry per batch."""
    batches: dict[str, set[str]] = {}
    for record in received:
        batches.setdefault(record["batchRef"], set()).add(record["mode"])
    return list(batches.items())


# --- the order system's changes, as new versions in the raw tables ---------------------


def pick_orders(connection: duckdb.DuckDBPyConnection, count: int) -> list[int]:
    """Shipped bulk orders with one version of the order and of each line, and a unique
    reference: every change below then makes exactly the version it means to."""
    rows = connection.execute("""
        with single_orders as (
            select order_id from raw.orders group by order_id having count(*) = 1
        ),
        multi_lines as (
            select distinct order_id from raw.order_lines
            group by order_id, order_line_id having count(*) > 1
        ),
        shared_references as (
            select upper(trim(booking_reference)) as reference_id from raw.orders
            group by 1 having count(distinct order_id) > 1
        )
        select o.order_id from cdp.cdp_orders as o
        join single_orders using (order_id)
        where o.order_id >= 1000 and o.status <> 'CANCELLED'
            and o.order_id not in (select order_id from multi_lines)
            and o.reference_id not in (select reference_id from shared_references)
        order by o.order_id
        limit ?
    """, [count]).fetchall()
    assert len(rows) == count, "the sample holds too few plain orders"
    return [row[0] for row in rows]


def new_order_version(connection: duckdb.DuckDBPyConnection, order_id: int,
                      replacements: str) -> None:
    """Insert a later version of an order with `replacements` (`expr as column, ...`)."""
    connection.execute(f"""
        insert into raw.orders
        select * replace ({replacements}, {NEW_VERSION_AT} as updated_at)
        from raw.orders where order_id = ?
    """, [order_id])


def new_price_of_first_line(connection: duckdb.DuckDBPyConnection, order_id: int) -> None:
    """A later version of the order's first line with its unit price up by 10.00."""
    connection.execute(f"""
        insert into raw.order_lines
        select * replace (unit_price + 10 as unit_price,
                          {NEW_VERSION_AT} as updated_at)
        from raw.order_lines
        where order_line_id = (select min(order_line_id) from raw.order_lines where order_id = ?)
    """, [order_id])


def add_order_attribute(connection: duckdb.DuckDBPyConnection, order_id: int) -> None:
    connection.execute("insert into raw.order_attributes values (?, 'Seat preference', "
                       "'window', 'string')", [order_id])


def copy_as_new_order(connection: duckdb.DuckDBPyConnection, order_id: int, number: int,
                      reference: str) -> int:
    """A new order: a copy of `order_id` (lines, segments, passengers, attributes)."""
    new_id = NEW_ORDER_ID_BASE + number
    offset = NEW_LINE_ID_OFFSET * number
    connection.execute(f"""
        insert into raw.orders select * replace ({new_id} as order_id, '{reference}' as
            booking_reference, {NEW_VERSION_AT} as updated_at)
        from raw.orders where order_id = {order_id};
        insert into raw.order_lines select * replace ({new_id} as order_id,
            order_line_id + {offset} as order_line_id)
        from raw.order_lines where order_id = {order_id};
        insert into raw.flight_segments select * replace ('{reference}-' || segment_id
            as segment_id, order_line_id + {offset} as order_line_id)
        from raw.flight_segments where order_line_id in
            (select order_line_id from raw.order_lines where order_id = {order_id});
        insert into raw.order_passengers select * replace ({new_id} as order_id)
        from raw.order_passengers where order_id = {order_id};
        insert into raw.order_attributes select * replace ({new_id} as order_id)
        from raw.order_attributes where order_id = {order_id};
        insert into raw.order_line_attributes select * replace (order_line_id + {offset}
            as order_line_id)
        from raw.order_line_attributes where order_line_id in
            (select order_line_id from raw.order_lines where order_id = {order_id});
    """)
    return new_id


def warehouse_orders(database: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(referenceId, orderedAt) -> value of every order the mart ships."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select record from cdp.cdp_batch_records where mode = 'insert'").fetchall()
    values = [json.loads(row[0])["value"] for row in rows]
    return {(value["referenceId"], value["orderedAt"]): value for value in values}


def sandbox_orders(sandbox: Sandbox) -> dict[tuple[str, str], dict[str, Any]]:
    """(referenceId, orderedAt) -> value of every order the sandbox holds."""
    orders = sandbox.orders()
    held = {(order["referenceId"], order["orderedAt"]): order["value"] for order in orders}
    assert len(held) == len(orders), "the sandbox holds one order twice"
    return held


def change_day_2(database: Path, orders: dict[str, int], values: dict[int, dict]) -> None:
    """What the order system replicates overnight, as new versions of rows."""
    moved_at = values[orders["moved"]]["orderedAt"]
    with duckdb.connect(str(database)) as connection:
        for number, reference in enumerate(NEW_REFERENCES, start=1):
            copy_as_new_order(connection, orders["copied"], number, reference)
        new_order_version(connection, orders["status"], "'cancelled' as status")
        new_price_of_first_line(connection, orders["price"])
        add_order_attribute(connection, orders["attribute"])
        new_order_version(connection, orders["deleted"],
                          "timestamptz '2031-01-01 00:00:00+00' as deleted_at")
        new_order_version(connection, orders["moved"],
                          f"strftime(timestamp '{moved_at[:-1]}' + interval 2 day, "
                          "'%Y-%m-%dT%H:%M:%S.%gZ') as ordered_at")
        new_order_version(connection, orders["test"], "true as is_test")
        new_order_version(connection, orders["rereferenced"], "'ZZNEWREF' as booking_reference")
        new_order_version(connection, orders["quarantined"], "null as brand_domain")
        new_order_version(connection, orders["refused"], "'cancelled' as status")


def fix_order(database: Path, order_id: int) -> None:
    """The order fixed at the source: a new version with another total."""
    with duckdb.connect(str(database)) as connection:
        connection.execute("""
            insert into raw.orders
            select * replace (total_amount + 1 as total_amount,
                              updated_at + interval 1 day as updated_at)
            from raw.orders where order_id = ?
            qualify updated_at = max(updated_at) over ()
        """, [order_id])
