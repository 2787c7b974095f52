"""One self-contained HTML file of the latest build and the history: `write_report`.

Where every order of the latest build went (cdp.cdp_order_reconciliation and
the quarantine by reason), how the builds moved (cdp.cdp_build_history,
cdp.cdp_quarantine_history) and what each ship run did (cdp.cdp_ship_runs:
rejects by code, batch sizes, durations). The charts are inline SVG drawn
here, with no script and nothing fetched; every number of a chart is also in
the table under it, for screen readers and for copying. The warehouse is
opened read-only; no personal data is read (counts, codes, times, folders).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp_loader.errors import LoaderError
from cdp_loader.files import write_durably
from cdp_loader.warehouse import BUILD_HINT, Warehouse, WarehouseRef, opened

# The order of the quarantine reasons is their precedence in raw_warehouse.md.
REASONS = (
    "invalid_ordered_at", "missing_reference", "reference_collision", "unmapped_status",
    "missing_point_of_sale", "invalid_currency", "missing_price", "no_items",
    "invalid_item", "no_contact",
)
DESTINATIONS = (
    ("shipped_orders", "Shipped"), ("deleted_orders", "Deleted"),
    ("excluded_orders", "Excluded (test orders)"), ("quarantined_orders", "Quarantined"),
)
# The charts and tables of the history show this many of the latest builds and runs.
HISTORY_LIMIT = 60
# Tableau 10: distinct hues, each readable on white.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")
DESTINATION_COLOURS = ("#59a14f", "#4e79a7", "#bab0ac", "#e15759")


@dataclass(frozen=True)
class ReportData:
    """What the report shows, read from the warehouse."""

    latest: dict[str, Any]
    latest_by_reason: list[tuple[str, int, int]]  # reason, orders, held by CDP
    builds: list[dict[str, Any]]                  # oldest first, the latest HISTORY_LIMIT
    build_count: int
    quarantine_by_build: dict[str, dict[str, int]]  # build_id -> reason -> orders
    runs: list[dict[str, Any]]                    # oldest first, the latest HISTORY_LIMIT
    run_count: int
    rejects_by_code: list[tuple[str, int, int]]   # code, records, runs (over every run)
    missing: tuple[str, ...]                      # history relations not in the warehouse


def read_report_data(database: WarehouseRef | Warehouse) -> ReportData:
    """The latest build and the history, read from the warehouse."""
    with opened(database) as warehouse:
        present = warehouse.tables()
        where = warehouse.target.describe()
        if not {"cdp_order_reconciliation", "cdp_order_quarantine"} <= present:
            raise LoaderError(f"{where} has no CDP mart; {BUILD_HINT}")

        def table(name: str) -> str:
            return warehouse.relation(name)

        latest = warehouse.fetch(f"select * from {table('cdp_order_reconciliation')}")
        if len(latest) != 1:
            raise LoaderError(f"{table('cdp_order_reconciliation')} of {where} holds "
                              f"{len(latest)} rows, not one; {BUILD_HINT}")
        latest_by_reason = [
            (row["reason"], int(row["orders"]), int(row["held"])) for row in warehouse.fetch(
                "select reason, count(*) as orders, "
                "count(*) filter (where cdp_holds_older_version) as held "
                f"from {table('cdp_order_quarantine')} group by reason")
        ]
        latest_by_reason.sort(key=lambda item: _reason_rank(item[0]))
        missing = tuple(name for name in (
            "cdp_build_history", "cdp_quarantine_history", "cdp_ship_runs")
            if name not in present)
        builds: list[dict[str, Any]] = []
        build_count = 0
        quarantine: dict[str, dict[str, int]] = {}
        if "cdp_build_history" in present:
            build_count = int(warehouse.fetch(
                f"select count(*) as n from {table('cdp_build_history')}")[0]["n"])
            builds = warehouse.fetch(
                f"select * from (select * from {table('cdp_build_history')} "
                f"order by built_at desc, build_id desc limit {HISTORY_LIMIT}) as latest "
                "order by built_at, build_id")
        if "cdp_quarantine_history" in present:
            for row in warehouse.fetch("select build_id, reason, quarantined_orders "
                                       f"from {table('cdp_quarantine_history')}"):
                quarantine.setdefault(row["build_id"], {})[row["reason"]] = int(
                    row["quarantined_orders"])
        runs: list[dict[str, Any]] = []
        run_count = 0
        codes: dict[str, list[int]] = {}
        if "cdp_ship_runs" in present:
            every_run = warehouse.fetch(f"select * from {table('cdp_ship_runs')} "
                                        "order by started_at, run_id")
            run_count = len(every_run)
            runs = every_run[-HISTORY_LIMIT:]
            for run in every_run:
                for code, count in _codes(run["rejected_by_code"]).items():
                    totals = codes.setdefault(code, [0, 0])
                    totals[0] += count
                    totals[1] += 1
    rejects = sorted(((code, n, r) for code, (n, r) in codes.items()),
                     key=lambda item: (-item[1], item[0]))
    return ReportData(latest[0], latest_by_reason, builds, build_count, quarantine, runs,
                      run_count, rejects, missing)


def _reason_rank(reason: str) -> tuple[int, str]:
    return (REASONS.index(reason) if reason in REASONS else len(REASONS), reason)


def _codes(text: str | None) -> dict[str, int]:
    """rejected_by_code of a run: a JSON object text {"code": count}."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {"(unreadable)": 0}
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


# Formatting -------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int | float | None) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _time(moment: datetime | None) -> str:
    return "not recorded" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _short_time(moment: datetime) -> str:
    return moment.strftime("%m-%d %H:%M")


def _share(part: int, whole: int) -> str:
    return "&ndash;" if not whole else f"{100 * part / whole:.1f}%"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.2f}"


# Charts -----------------------------------------------------------------------

_WIDTH = 1000


def _nice_top(value: float) -> float:
    """A round number at least VALUE, the top of an axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _svg(chart_id: str, height: int, title: str, description: str, body: list[str]) -> str:
    return (
        f'<h3 aria-hidden="true">{_e(title)}</h3>'
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{_e(title)}</title>'
        f'<desc id="{chart_id}-desc">{_e(description)}</desc>'
        + "".join(body) + "</svg>"
    )


def horizontal_bars(chart_id: str, title: str, items: list[tuple[str, int, str]],
                    description: str) -> str:
    """One bar per (label, value, colour), the value written at its end."""
    label_width, bar_height, gap, top = 230, 26, 10, 10
    height = top * 2 + len(items) * (bar_height + gap)
    biggest = max((value for _, value, _ in items), default=0) or 1
    room = _WIDTH - label_width - 120
    body = []
    for i, (label, value, colour) in enumerate(items):
        y = top + i * (bar_height + gap)
        length = max(room * value / biggest, 1 if value else 0)
        body.append(
            f'<text x="{label_width - 10}" y="{y + bar_height * 0.68:.1f}" '
            f'text-anchor="end" class="label">{_e(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{colour}"><title>{_e(label)}: {_n(value)}</title></rect>'
            f'<text x="{label_width + length + 8:.1f}" y="{y + bar_height * 0.68:.1f}" '
            f'class="value">{_n(value)}</text>'
        )
    return _svg(chart_id, height, title, description, body)


def stacked_columns(chart_id: str, title: str, categories: list[str],
                    series: list[tuple[str, list[float], str]], description: str,
                    unit: str = "") -> str:
    """One column per category, one stacked segment per series, a legend above."""
    left, right, bottom = 80, 20, 40
    plot_height = 300
    plot_width = _WIDTH - left - right
    totals = [sum(values[i] for _, values, _ in series) for i in range(len(categories))]
    axis_top = _nice_top(max(totals, default=0))
    body = []
    x, legend_y = left, 8
    for name, _, colour in series:  # the legend, wrapped to the width
        width = 34 + 8 * len(name)
        if x + width > _WIDTH - right and x > left:
            x, legend_y = left, legend_y + 22
        body.append(f'<rect x="{x}" y="{legend_y}" width="14" height="14" fill="{colour}"/>'
                    f'<text x="{x + 20}" y="{legend_y + 12}" class="legend">{_e(name)}</text>')
        x += width
    top = legend_y + 38
    height = top + plot_height + bottom
    for step in range(5):  # the axis: gridlines and their values
        value = axis_top * step / 4
        y = top + plot_height - plot_height * step / 4
        body.append(f'<line x1="{left}" x2="{_WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" '
                    'class="grid"/>'
                    f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                    f'{_n(value)}{_e(unit)}</text>')
    if categories:
        slot = plot_width / len(categories)
        bar = min(slot * 0.7, 60)
        every = max(1, math.ceil(len(categories) / 12))
        for i, category in enumerate(categories):
            x0 = left + slot * i + (slot - bar) / 2
            y = top + plot_height
            for name, values, colour in series:
                size = plot_height * values[i] / axis_top
                if size > 0:
                    y -= size
                    body.append(
                        f'<rect x="{x0:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                        f'height="{size:.1f}" fill="{colour}"><title>{_e(category)}, '
                        f'{_e(name)}: {_n(values[i])}{_e(unit)}</title></rect>')
            if i % every == 0 or i == len(categories) - 1:
                body.append(f'<text x="{x0 + bar / 2:.1f}" y="{top + plot_height + 18}" '
                            f'text-anchor="middle" class="tick">{_e(category)}</text>')
    else:
        body.append(f'<text x="{_WIDTH / 2}" y="{top + plot_height / 2}" text-anchor="middle" '
                    'class="label">nothing recorded yet</text>')
    body.append(f'<line x1="{left}" x2="{_WIDTH - right}" y1="{top + plot_height}" '
                f'y2="{top + plot_height}" class="axis"/>')
    return _svg(chart_id, height, title, description, body)


# Tables -----------------------------------------------------------------------


def table(table_id: str, caption: str, header: list[str], rows: list[list[str]],
          numeric: set[int]) -> str:
    """A table with a caption and column headers; the columns in NUMERIC align right."""
    head = "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>'
        f'{_e(h).replace("_", "_<wbr>")}</th>' for i, h in enumerate(header))
    lines = []
    for row in rows:
        cells = [f'<th scope="row">{row[0]}</th>'] + [
            f'<td{" class=num" if i in numeric else ""}>{cell}</td>'
            for i, cell in enumerate(row[1:], start=1)]
        lines.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        lines.append(f'<tr><td colspan="{len(header)}">Nothing recorded yet.</td></tr>')
    return (f'<div class="scroll"><table id="{table_id}"><caption>{_e(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table></div>")


# The page ---------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 6px;
border-bottom:2px solid #d8dde5;padding-bottom:4px}
p.lead{color:#4a5363;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border:1px solid #d8dde5;border-radius:8px;padding:10px 16px;
min-width:150px}
.card b{display:block;font-size:24px}.card span{color:#4a5363;font-size:13px}
.ok{color:#2f7d32}.bad{color:#b3261e}
section{background:#fff;border:1px solid #d8dde5;border-radius:8px;padding:8px 20px 16px;
margin:14px 0}
svg.chart{width:100%;height:auto;display:block;margin:4px 0 8px}
h3{font-size:15px;margin:18px 0 0}
svg .label{font-size:14px;fill:#1d2430}svg .value{font-size:14px;fill:#1d2430;font-weight:600}
svg .tick{font-size:12px;fill:#4a5363}svg .legend{font-size:13px;fill:#1d2430}
svg .grid{stroke:#e3e7ee}svg .axis{stroke:#8a94a6}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 4px}
caption{text-align:left;font-weight:600;padding:4px 0;color:#4a5363}
th,td{border-bottom:1px solid #e3e7ee;padding:4px 8px;text-align:left;vertical-align:top;
overflow-wrap:break-word}td.num,tbody th{white-space:nowrap}
thead th{background:#eef1f5}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#4a5363;font-size:13px}
.scroll{overflow-x:auto}section>h2:first-child{margin-top:14px}
"""


def _card(value: str, label: str, css: str = "") -> str:
    return f'<div class="card"><b class="{css}">{value}</b><span>{_e(label)}</span></div>'


def _latest_section(data: ReportData) -> str:
    latest = data.latest
    current = int(latest["current_orders"])
    items = [(label, int(latest[key]), colour)
             for (key, label), colour in zip(DESTINATIONS, DESTINATION_COLOURS, strict=True)]
    rows = [["Current orders", _n(current), _share(current, current)]]
    rows += [[_e(label), _n(value), _share(value, current)] for label, value, _ in items]
    rows.append(["Unaccounted", _n(latest["unaccounted_orders"]),
                 _share(int(latest["unaccounted_orders"]), current)])
    description = "; ".join(f"{label}: {_n(value)}" for label, value, _ in items)
    reason_items = [(reason, orders, PALETTE[_reason_rank(reason)[0] % len(PALETTE)])
                    for reason, orders, _ in data.latest_by_reason]
    quarantined = sum(orders for _, orders, _ in data.latest_by_reason)
    reason_rows = [[_e(reason), _n(orders), _share(orders, quarantined), _n(held)]
                   for reason, orders, held in data.latest_by_reason]
    return (
        '<section aria-labelledby="h-latest"><h2 id="h-latest">Where every order went</h2>'
        f'<p class="note">The latest build, {_e(_time(latest["reconciled_at"]))} UTC: every '
        "current order is shipped, deleted, excluded or quarantined "
        "(cdp.cdp_order_reconciliation).</p>"
        + horizontal_bars("chart-reconciliation", "Current orders by destination", items,
                          description)
        + table("reconciliation", "Current orders by destination, latest build",
                ["Destination", "Orders", "Share of current orders"], rows, {1, 2})
        + "<h2 id='h-reasons'>Why orders are quarantined</h2>"
        '<p class="note">The first rule each quarantined order breaks, latest build '
        "(cdp.cdp_order_quarantine). Fix the source and rebuild to ship them.</p>"
        + horizontal_bars("chart-quarantine-latest", "Quarantined orders by reason",
                          reason_items, "; ".join(f"{r}: {_n(n)}" for r, n, _ in reason_items))
        + table("quarantine-latest", "Quarantined orders by reason, latest build",
                ["Reason", "Orders", "Share of quarantined", "CDP holds an older version"],
                reason_rows, {1, 2, 3})
        + "</section>"
    )


def _history_section(data: ReportData) -> str:
    builds = data.builds
    labels = [_short_time(build["built_at"]) for build in builds]
    shown = f"the latest {len(builds)} of {data.build_count} builds" if (
        data.build_count > len(builds)) else f"{len(builds)} builds"
    destination_series = [
        (label, [float(build[key]) for build in builds], colour)
        for (key, label), colour in zip(DESTINATIONS, DESTINATION_COLOURS, strict=True)]
    build_rows = [
        [_e(_time(build["built_at"])), _e(str(build["build_id"])[:8]),
         _n(build["current_orders"]), *(_n(build[key]) for key, _ in DESTINATIONS),
         _n(build["unaccounted_orders"])]
        for build in builds]
    reasons = sorted({reason for build in builds
                      for reason in data.quarantine_by_build.get(build["build_id"], {})},
                     key=_reason_rank)
    reason_series = [
        (reason, [float(data.quarantine_by_build.get(build["build_id"], {}).get(reason, 0))
                  for build in builds], PALETTE[_reason_rank(reason)[0] % len(PALETTE)])
        for reason in reasons]
    quarantine_rows = [
        [_e(_time(build["built_at"])),
         *(_n(data.quarantine_by_build.get(build["build_id"], {}).get(reason, 0))
           for reason in reasons),
         _n(sum(data.quarantine_by_build.get(build["build_id"], {}).values()))]
        for build in builds]
    return (
        '<section aria-labelledby="h-builds"><h2 id="h-builds">Build by build</h2>'
        f'<p class="note">Where the orders went at each build, {shown}, oldest first '
        "(cdp.cdp_build_history).</p>"
        + stacked_columns("chart-builds", "Current orders by destination, build by build",
                          labels, destination_series,
                          f"Stacked columns of shipped, deleted, excluded and quarantined "
                          f"orders for {shown}; the table below holds every number.")
        + table("build-history", f"Orders by destination, {shown}",
                ["Build (UTC)", "Build id", "Current", *(label for _, label in DESTINATIONS),
                 "Unaccounted"], build_rows, {2, 3, 4, 5, 6, 7})
        + "<h2 id='h-quarantine-history'>Quarantine reasons over time</h2>"
        '<p class="note">Quarantined orders by their first rule broken, build by build '
        "(cdp.cdp_quarantine_history); a reason missing from a build held no order.</p>"
        + stacked_columns("chart-quarantine-history", "Quarantined orders by reason over time",
                          labels, reason_series,
                          f"Stacked columns of quarantined orders by reason for {shown}; "
                          "the table below holds every number.")
        + table("quarantine-history", f"Quarantined orders by reason, {shown}",
                ["Build (UTC)", *reasons, "Total"], quarantine_rows,
                set(range(1, len(reasons) + 2)))
        + "</section>"
    )


def _runs_section(data: ReportData) -> str:
    runs = data.runs
    labels = [_short_time(run["started_at"]) for run in runs]
    shown = f"the latest {len(runs)} of {data.run_count} ship runs" if (
        data.run_count > len(runs)) else f"{len(runs)} ship runs"
    other = [max(0, int(run["records_sent"]) - int(run["records_succeeded"])
                 - int(run["records_rejected"])) for run in runs]
    record_series = [
        ("Succeeded", [float(run["records_succeeded"]) for run in runs], "#59a14f"),
        ("Rejected", [float(run["records_rejected"]) for run in runs], "#e15759"),
        ("Other (neither succeeded nor rejected)", [float(n) for n in other], "#bab0ac"),
    ]
    duration_series = [("Duration", [float(run["duration_seconds"]) for run in runs],
                        "#4e79a7")]
    run_rows = [
        [_e(_time(run["started_at"])), _e(run["scope"]), _n(run["files"]),
         _megabytes(int(run["bytes"])), _n(run["records_sent"]), _n(run["records_succeeded"]),
         _n(run["records_rejected"]), _n(run["deletes_already_absent"]),
         f"{float(run['duration_seconds']):,.1f}", _n(run["exit_code"]), _e(run["run_id"]),
         _e(run["batch_dir"]).replace("/", "/<wbr>")]
        for run in runs]
    code_items = [(code, records, PALETTE[i % len(PALETTE)])
                  for i, (code, records, _) in enumerate(data.rejects_by_code)]
    code_rows = [[_e(code), _n(records), _n(count)] for code, records, count in
                 data.rejects_by_code]
    codes_chart = horizontal_bars(
        "chart-rejects", "Rejected records by CDP error code, every ship run", code_items,
        "; ".join(f"{code}: {_n(n)}" for code, n, _ in code_items) or "no record rejected",
    ) if code_items else '<p class="note">No record was rejected.</p>'
    return (
        '<section aria-labelledby="h-runs"><h2 id="h-runs">Ship runs</h2>'
        f'<p class="note">What each ship run sent and what CDP made of it, {shown}, oldest '
        "first (cdp.cdp_ship_runs).</p>"
        + stacked_columns("chart-run-records", "Records sent per ship run", labels,
                          record_series, f"Stacked columns of succeeded and rejected records "
                          f"for {shown}; the table below holds every number.")
        + stacked_columns("chart-run-durations", "Duration of each ship run", labels,
                          duration_series, f"Columns of the wall time in seconds of {shown}; "
                          "the table below holds every number.", unit=" s")
        + table("ship-runs", f"Ship runs, {shown}",
                ["Started (UTC)", "Scope", "Files", "MB", "Records sent", "Succeeded",
                 "Rejected", "Deletes already absent", "Seconds", "Exit", "Run", "Batch folder"],
                run_rows, {2, 3, 4, 5, 6, 7, 8, 9})
        + "<h2 id='h-rejects'>Rejects by code</h2>"
        '<p class="note">Records CDP rejected, by its error code, over every ship run; '
        "each rejected record is named in its folder's rejects.ndjson.</p>"
        + codes_chart
        + table("rejects-by-code", "Rejected records by CDP error code, every ship run",
                ["Error code", "Rejected records", "Ship runs"], code_rows, {1, 2})
        + "</section>"
    )


def render_report(data: ReportData, generated_at: datetime, database: object) -> str:
    """The whole page as text."""
    latest = data.latest
    reconciles = int(latest["unaccounted_orders"]) == 0
    last_run = data.runs[-1] if data.runs else None
    cards = [
        _card(_n(latest["current_orders"]), "current orders"),
        _card(_n(latest["shipped_orders"]), "shipped"),
        _card(_n(latest["quarantined_orders"]), "quarantined"),
        _card("reconcile" if reconciles else "DO NOT reconcile", "the counts",
              "ok" if reconciles else "bad"),
    ]
    if last_run is not None:
        clean = int(last_run["exit_code"]) == 0
        cards.append(_card(f"exit {_n(last_run['exit_code'])}",
                           f"latest ship run, {_time(last_run['started_at'])}",
                           "ok" if clean else "bad"))
    missing = "".join(
        f'<p class="note bad">cdp.{_e(name)} is not in the warehouse yet: run `dbt build '
        "--profiles-dir profiles` to create it.</p>" for name in data.missing)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>cdp-orders report, {_e(_time(generated_at))} UTC</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        "<h1>cdp-orders: the latest run and its history</h1>"
        f'<p class="lead">Warehouse {_e(str(database))}; report written {_e(_time(generated_at))} '
        f"UTC; latest build {_e(str(latest['build_id']))}.</p>"
        f'<div class="cards">{"".join(cards)}</div>{missing}'
        + _latest_section(data) + _history_section(data) + _runs_section(data)
        + "</main></body></html>\n"
    )


def write_report(database: WarehouseRef | Warehouse, out: Path) -> Path:
    """Write the report of DATABASE to OUT (0600, replaced durably); returns OUT."""
    with opened(database) as warehouse:
        data = read_report_data(warehouse)
        where = warehouse.target.describe()
    page = render_report(data, datetime.now(UTC).replace(tzinfo=None), where)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_durably(out, page.encode("utf-8"))
    except OSError as exc:
        raise LoaderError(f"cannot write the report to {out}: "
                          f"{exc.strerror or type(exc).__name__}") from None
    return out
