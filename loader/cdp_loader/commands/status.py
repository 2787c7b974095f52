"""`cdp-loader status [DIR]`: what was shipped from a batch folder, when, with which result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cdp_loader.api_client import ApiError, BatchApiClient, Deadline
from cdp_loader.batch_folder import LEDGER_NAME, TERMINAL_STATES, BatchFolder, entry_matches
from cdp_loader.commands.ship import api_settings_options, latest_ship, settings_from_options
from cdp_loader.errors import EXIT_STATUS_HELP, LoaderError

COLUMNS = ("file", "records", "state", "batchRef", "updated", "rejected")
REFRESH_TIMEOUT = 60.0


def status_rows(directory: Path) -> list[dict[str, Any]]:
    """One row per manifest file (ledger files not in the manifest are listed after).

    A ledger entry about other bytes than the manifest names shows as `stale`:
    the file was not shipped as it is now.
    """
    folder = BatchFolder(directory)
    entries = folder.ledger().files()
    manifest = folder.manifest().files if folder.manifest_path.exists() else ()
    infos = {info.file: info for info in manifest}
    names = [info.file for info in manifest]
    names += [name for name in entries if name not in names]
    rows = []
    for name in names:
        entry = entries.get(name) or {}
        state = entry.get("state", "not shipped")
        if entry and name in infos and not entry_matches(entry, infos[name]):
            state = f"stale ({state} for other bytes)"
        rows.append({
            "file": name, "records": entry.get("records"),
            "state": state, "batchRef": entry.get("batchRef"),
            "updated": entry.get("updated_at"), "rejected": entry.get("rejected", 0),
            "deletes_already_absent": entry.get("deletes_already_absent", 0),
            "previous_batchRefs": [old["batchRef"] for old in entry.get("history", [])],
        })
    return rows


def refresh_rows(rows: list[dict[str, Any]], client: BatchApiClient) -> None:
    """Add the server's view (`/inspect`) of every non-terminal batch, as `server`."""
    for row in rows:
        if row["state"] in TERMINAL_STATES or not row["batchRef"]:
            continue
        try:
            document = client.inspect(row["batchRef"])
        except ApiError as exc:
            row["server"] = f"HTTP {exc.status_code}" if exc.status_code else "unreadable"
            continue
        status = document.get("status")
        row["server"] = status.get("code") if isinstance(status, dict) else status


def render_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """A plain aligned text table."""
    cells = [[("-" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
              for line in cells]
    return "\n".join(lines)


@click.command("status", epilog=EXIT_STATUS_HELP)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON on stdout.")
@click.option("--refresh", is_flag=True,
              help="Ask the Batch API (inspect) about batches not yet final; needs the settings.")
@api_settings_options
def status(directory: Path | None, as_json: bool, refresh: bool, base_url: str | None,
           region: str | None, client_key: str | None, api_token: str | None) -> None:
    """Show the ledger of DIRECTORY (default: the folder of the latest ship).

    \b
    Example:
        cdp-loader status batches/ --json
    """
    if directory is None:
        directory = latest_ship()
        if directory is None:
            raise LoaderError("no folder given and no earlier `cdp-loader ship` recorded")
    if not (directory / LEDGER_NAME).exists():
        raise LoaderError(f"nothing shipped from {directory} yet (no {LEDGER_NAME})")
    rows = status_rows(directory)
    columns = COLUMNS
    if refresh:
        settings = settings_from_options(base_url, region, client_key, api_token)
        refresh_rows(rows, BatchApiClient(settings.base_url, settings.credentials,
                                          deadline=Deadline(REFRESH_TIMEOUT)))
        columns = (*COLUMNS, "server")
    if as_json:
        click.echo(json.dumps({"directory": str(directory), "files": rows}, indent=1))
    else:
        click.echo(f"{directory}")
        click.echo(render_table(rows, columns))
