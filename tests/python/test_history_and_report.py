"""History that accumulates across builds and ship runs, and the report drawn from it.

Two nights: the session's built sample (the first build), then the raw
tables change (five shipped orders get a currency that is no ISO code, three
are erased) and dbt builds again. The history keeps both builds; the ship
runs are recorded by `record_ship_run`; `cdp-loader report` draws it all,
and headless Chromium renders the page.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from cdp_loader.cli import cli
from cdp_loader.dbt_build import run_dbt_build
from cdp_loader.errors import LoaderError
from cdp_loader.report import write_report
from cdp_loader.run_history import ShipRun, record_ship_run
from daily_helpers import new_order_version, pick_orders

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARTS_YML = PROJECT_DIR / "models" / "marts" / "cdp" / "_cdp__models.yml"
NIGHT = datetime(2026, 11, 30, 3, 0, 0)


def _ship_run(name: str, night: int, **changes: object) -> ShipRun:
    values: dict[str, object] = {
        "run_id": name, "started_at": NIGHT + timedelta(days=night),
        "finished_at": NIGHT + timedelta(days=night, seconds=42),
        "scope": "full" if night == 0 else "daily", "batch_dir": f"data/batches/run-{night}",
        "files": 2, "bytes": 123_456, "records_sent": 1000, "records_succeeded": 990,
        "records_rejected": 10, "rejected_by_code": {"E_INVALID_VALUE": 7, "E_MISSING": 3},
        "deletes_already_absent": 1, "duration_seconds": 41.5, "exit_code": 1,
    }
    values.update(changes)
    return ShipRun(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def two_nights(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's built sample, changed in its raw tables and built again."""
    database = tmp_path_factory.mktemp("two-nights") / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, database)
    with duckdb.connect(str(database)) as connection:
        # As the order system changes orders: a new version of each (raw_warehouse.md).
        shipped = pick_orders(connection, 8)
        for order_id in shipped[:5]:
            new_order_version(connection, order_id, "'XYZ' as currency")
        for order_id in shipped[5:]:
            new_order_version(connection, order_id,
                              "timestamptz '2026-12-01 02:00:00+00' as deleted_at")
    run_dbt_build(PROJECT_DIR, database, ("--quiet",))
    return database


def _query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


# History of builds --------------------------------------------------------------


def test_the_build_history_keeps_one_row_per_build(two_nights: Path) -> None:
    builds = _query(two_nights, "select build_id, built_at, current_orders, shipped_orders, "
                                "deleted_orders, quarantined_orders, unaccounted_orders "
                                "from cdp.cdp_build_history order by built_at")
    assert len(builds) == 2
    (first_id, first_at, current, shipped, deleted, quarantined, _), second = builds
    assert second[0] != first_id and second[1] > first_at
    assert second[2:] == (current, shipped - 8, deleted + 3, quarantined + 5, 0)
    # The second row is the latest build's reconciliation, under the same build_id.
    latest = _query(two_nights, "select build_id, reconciled_at, current_orders, shipped_orders, "
                                "deleted_orders, quarantined_orders, unaccounted_orders "
                                "from cdp.cdp_order_reconciliation")
    assert latest == [second]


def test_the_quarantine_history_keeps_each_builds_counts_by_reason(two_nights: Path) -> None:
    rows = _query(two_nights, """
        select history.reason, history.quarantined_orders
        from cdp.cdp_quarantine_history as history
        inner join cdp.cdp_build_history as builds on history.build_id = builds.build_id
        order by builds.built_at, history.reason""")
    per_build = len(rows) // 2
    first, second = dict(rows[:per_build]), dict(rows[per_build:])
    assert second["invalid_currency"] == first["invalid_currency"] + 5
    assert {r: n for r, n in second.items() if r != "invalid_currency"} == {
        r: n for r, n in first.items() if r != "invalid_currency"}
    latest = dict(_query(two_nights, "select reason, count(*) from cdp.cdp_order_quarantine "
                                     "group by reason"))
    assert second == latest


def test_the_documented_nightly_quarantine_query_gives_the_last_build_of_each_night(
    two_nights: Path,
) -> None:
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    description = next(m for m in models if m["name"] == "cdp_quarantine_history")["description"]
    query = re.search(r"`(select built_on, reason.*?)`", description, flags=re.S).group(1)
    nightly = _query(two_nights, query)
    today = _query(two_nights, "select cast(reconciled_at as date) "
                               "from cdp.cdp_order_reconciliation")[0][0]
    latest = _query(two_nights, "select reason, count(*) from cdp.cdp_order_quarantine "
                                "group by reason order by reason")
    # Both builds ran today: the query answers with the later one, one row per reason.
    assert nightly == [(today, reason, count) for reason, count in latest]


def test_a_full_refresh_keeps_the_history(two_nights: Path, tmp_path: Path) -> None:
    database = tmp_path / "refreshed.duckdb"
    shutil.copyfile(two_nights, database)
    run_dbt_build(PROJECT_DIR, database, (
        "--quiet", "--full-refresh", "--select", "cdp_build_history", "cdp_quarantine_history"))
    assert _query(database, "select count(*) from cdp.cdp_build_history") == [(2,)]
    assert _query(database, "select count(distinct build_id) from cdp.cdp_quarantine_history"
                  ) == [(2,)]


# History of ship runs -----------------------------------------------------------


def test_a_ship_run_recorded_twice_is_one_row(two_nights: Path, tmp_path: Path) -> None:
    database = tmp_path / "runs.duckdb"
    shutil.copyfile(two_nights, database)
    aware = _ship_run("run-a", 0, started_at=datetime(2026, 11, 30, 4, 0, tzinfo=timezone(
        timedelta(hours=1))), finished_at=datetime(2026, 11, 30, 3, 0, 42, tzinfo=UTC))
    record_ship_run(database, aware)
    record_ship_run(database, aware)
    record_ship_run(database, _ship_run("run-b", 1, rejected_by_code={}, records_rejected=0,
                                        exit_code=0))
    rows = _query(database, "select * from cdp.cdp_ship_runs order by run_id")
    assert rows == [
        ("run-a", datetime(2026, 11, 30, 3, 0), datetime(2026, 11, 30, 3, 0, 42), "full",
         "data/batches/run-0", 2, 123_456, 1000, 990, 10,
         '{"E_INVALID_VALUE":7,"E_MISSING":3}', 1, 41.5, 1),
        ("run-b", datetime(2026, 12, 1, 3, 0), datetime(2026, 12, 1, 3, 0, 42), "daily",
         "data/batches/run-1", 2, 123_456, 1000, 990, 0, "{}", 1, 41.5, 0),
    ]


def test_recording_into_a_warehouse_dbt_never_built_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()
    with pytest.raises(LoaderError) as caught:
        record_ship_run(database, _ship_run("run-a", 0))
    message = caught.value.format_message()
    assert "\n" not in message
    assert message.startswith(f"cdp.cdp_ship_runs is missing in {database}; run `dbt build")


@pytest.mark.parametrize(("changes", "complaint"), [
    ({"scope": "nightly"}, "scope must be one of full, daily, ship"),
    ({"records_sent": -1}, "records_sent must be a count"),
    ({"rejected_by_code": {"E_X": "3"}}, "rejected_by_code['E_X'] must be a count"),
    ({"run_id": ""}, "a ship run needs a run_id"),
])
def test_a_ship_run_that_makes_no_sense_is_refused(changes: dict, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        _ship_run("run-a", 0, **changes)


# The report ---------------------------------------------------------------------


class _Tables(HTMLParser):
    """The text of every cell of every table with an id: {id: [[cell, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.tables[self._table or ""] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def _number(cell: str) -> float:
    return float(cell.replace(",", ""))


@pytest.fixture(scope="module")
def reported(two_nights: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The two-night warehouse with three ship runs, and its report."""
    folder = tmp_path_factory.mktemp("report")
    database = folder / "warehouse.duckdb"
    shutil.copyfile(two_nights, database)
    record_ship_run(database, _ship_run("run-0", 0, records_sent=4900, records_succeeded=4888,
                                        records_rejected=12, files=3, bytes=2_400_000,
                                        rejected_by_code={"E_INVALID_VALUE": 12},
                                        duration_seconds=96.25))
    record_ship_run(database, _ship_run("run-1", 1))
    record_ship_run(database, _ship_run("run-2", 2, records_rejected=0, rejected_by_code={},
                                        records_succeeded=1000, exit_code=0))
    out = write_report(database, folder / "out" / "cdp-report.html")
    return database, out


def test_the_report_is_one_private_self_contained_file(reported: tuple[Path, Path]) -> None:
    _, out = reported
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["cdp-report.html"]
    page = out.read_text(encoding="utf-8")
    # Nothing is fetched: no script, stylesheet, image or font from anywhere.
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", page)
    # Every chart is an image with a title and a description, and a table follows it.
    charts = re.findall(r'<svg id="([\w-]+)"[^>]*role="img"[^>]*aria-labelledby="([^"]+)"', page)
    assert [c for c, _ in charts] == [
        "chart-reconciliation", "chart-quarantine-latest", "chart-builds",
        "chart-quarantine-history", "chart-run-records", "chart-run-durations", "chart-rejects"]
    for chart, labels in charts:
        assert labels == f"{chart}-title {chart}-desc"
        assert page.index("<table", page.index(f'id="{chart}"')) > 0


def test_the_report_numbers_are_the_marts(reported: tuple[Path, Path]) -> None:
    database, out = reported
    tables = _tables(out.read_text(encoding="utf-8"))
    reconciliation = _query(database, "select current_orders, shipped_orders, deleted_orders, "
                                      "excluded_orders, quarantined_orders, unaccounted_orders "
                                      "from cdp.cdp_order_reconciliation")[0]
    assert [(row[0], _number(row[1])) for row in tables["reconciliation"][1:]] == list(zip(
        ["Current orders", "Shipped", "Deleted", "Excluded (test orders)", "Quarantined",
         "Unaccounted"], reconciliation, strict=True))

    by_reason = _query(database, "select reason, count(*), "
                                 "count(*) filter (where cdp_holds_older_version) "
                                 "from cdp.cdp_order_quarantine group by reason")
    shown = [(row[0], _number(row[1]), _number(row[3])) for row in tables["quarantine-latest"][1:]]
    assert sorted(shown) == sorted(by_reason)
    assert shown[0][0] == "invalid_ordered_at"  # the order of precedence

    builds = _query(database, "select strftime(built_at, '%Y-%m-%d %H:%M:%S'), current_orders, "
                              "shipped_orders, deleted_orders, excluded_orders, "
                              "quarantined_orders, unaccounted_orders "
                              "from cdp.cdp_build_history order by built_at")
    assert [(row[0], *map(_number, row[2:])) for row in tables["build-history"][1:]] == builds

    header, *rows = tables["quarantine-history"]
    history = _query(database, """
        select strftime(b.built_at, '%Y-%m-%d %H:%M:%S'), q.reason, q.quarantined_orders
        from cdp.cdp_quarantine_history as q
        inner join cdp.cdp_build_history as b on q.build_id = b.build_id""")
    shown_history = {(row[0], reason, _number(cell))
                     for row in rows for reason, cell in zip(header[1:-1], row[1:-1], strict=True)
                     if _number(cell)}
    assert shown_history == {(at, reason, float(n)) for at, reason, n in history}
    assert [_number(row[-1]) for row in rows] == [b[5] for b in builds]

    runs = _query(database, "select strftime(started_at, '%Y-%m-%d %H:%M:%S'), scope, files, "
                            "records_sent, records_succeeded, records_rejected, "
                            "deletes_already_absent, duration_seconds, exit_code, run_id "
                            "from cdp.cdp_ship_runs order by started_at")
    # The table shows seconds to one decimal.
    assert [(r[0], r[1], _number(r[2]), *map(_number, r[4:10]), r[10])
            for r in tables["ship-runs"][1:]] == [
        (*run[:7], round(run[7], 1), *run[8:]) for run in runs]

    codes = _query(database, "select j.key, sum(cast(j.value as bigint)), count(*) "
                             "from cdp.cdp_ship_runs, json_each(rejected_by_code) as j "
                             "group by j.key order by 2 desc, 1")
    assert [(r[0], _number(r[1]), _number(r[2])) for r in tables["rejects-by-code"][1:]] == codes
    assert codes == [("E_INVALID_VALUE", 19, 2), ("E_MISSING", 3, 1)]


def test_the_report_renders_in_a_browser(reported: tuple[Path, Path], tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (`make chromium` installs it)")
    _, out = reported
    png = tmp_path / "report.png"
    completed = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
         "--window-size=1200,2000", out.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 2000)
    # A page of charts and tables, not a blank or an error page (those are a few KB).
    assert len(data) > 60_000


def test_the_report_command_prints_where_it_wrote(reported: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    database, _ = reported
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--out", str(out)],
                                env={"CDP_DUCKDB_PATH": str(database)})
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}\n"
    assert "Where every order went" in out.read_text(encoding="utf-8")


def test_the_report_of_a_warehouse_without_a_mart_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "raw-only.duckdb"
    duckdb.connect(str(database)).close()
    result = CliRunner().invoke(cli, ["report", "--database", str(database),
                                      "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert result.stderr == (f"cdp-loader: {database} has no CDP mart; "
                             "run `dbt build --profiles-dir profiles` first\n")
    assert not (tmp_path / "r.html").exists()


def test_the_report_before_any_ship_run_says_so(two_nights: Path, tmp_path: Path) -> None:
    page = write_report(two_nights, tmp_path / "r.html").read_text(encoding="utf-8")
    tables = _tables(page)
    assert tables["ship-runs"][1:] == [["Nothing recorded yet."]]
    assert "No record was rejected." in page
