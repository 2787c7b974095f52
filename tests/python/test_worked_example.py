"""The worked example of contracts/example.md, byte for byte (a copy is in data/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from cdp_loader.dbt_build import run_dbt_build
from conftest import PROJECT_DIR

EXAMPLE = Path(__file__).parent / "data" / "worked_example.md"
RAW_DDL = PROJECT_DIR / "loader" / "cdp_loader" / "raw_warehouse.sql"


@pytest.fixture(scope="module")
def example_mart(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict]:
    sql, lines, quarantine = re.findall(r"```[a-z]*\n(.*?)```", EXAMPLE.read_text(), re.S)[:3]
    database = tmp_path_factory.mktemp("example") / "example.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(RAW_DDL.read_text())
        connection.execute(sql)
    run_dbt_build(PROJECT_DIR, database, ("--quiet",))
    return database, lines.splitlines(), json.loads(quarantine)


def test_batch_lines_are_the_example_lines(example_mart) -> None:
    database, expected_lines, _ = example_mart
    with duckdb.connect(str(database), read_only=True) as connection:
        lines = [r for (r,) in connection.execute(
            "select record from cdp.cdp_batch_records order by seq").fetchall()]
    assert lines == expected_lines


def test_quarantine_is_the_example_quarantine(example_mart) -> None:
    database, _, expected = example_mart
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select order_id, reason, reasons from cdp.cdp_order_quarantine").fetchall()
    assert {str(order_id): {"reason": reason, "reasons": reasons.split(",")}
            for order_id, reason, reasons in rows} == expected
