"""`cdp-loader validate`: check batch files without sending anything."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cdp_loader.errors import EXIT_REJECTED, EXIT_STATUS_HELP, LoaderError
from cdp_loader.validate import (
    WARNING,
    Problem,
    ValidationStats,
    batch_files_in,
    validate_files,
)


def _expand(paths: tuple[Path, ...]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = batch_files_in(path)
            if not found:
                raise LoaderError(f"no batch-*.json.gz files in {path}")
            files.extend(found)
        else:
            files.append(path)
    return files


def _as_text(problem: Problem) -> str:
    label = "warning: " if problem.severity == WARNING else ""
    return f"{problem.file}:{problem.line} {problem.reference_id}: {label}{problem.message}"


@click.command("validate", epilog=EXIT_STATUS_HELP)
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one problem a line; json: one JSON document for machines.",
)
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], output_format: str) -> None:
    """Check batch files against the CDP file format and order data models.

    PATH is a batch file or a folder (meaning its batch-*.json.gz files in name
    order). Every problem is printed as `file:line referenceId: problem` (line 0
    is the file as a whole), file by file, then every ref that repeats an
    earlier line's; a key CDP does not know is a warning,
    `file:line referenceId: warning: problem`, naming the nearest known key.
    The last line counts files, records, problems and warnings. Every mode is
    checked: insert, upsert and delete. Files are checked in parallel, one
    per core. Exit 0 when clean (warnings allowed), 1 when any problem is
    found, 2 on a usage error.

    \b
    Example:
        cdp-loader validate batches/
        cdp-loader validate --format json batches/batch-00001.json.gz
    """
    files = _expand(paths)
    stats = ValidationStats()
    if output_format == "json":
        problems = [problem.__dict__ for problem in validate_files(files, stats)]
        document = {
            "files": stats.files,
            "records": stats.records,
            "problems": stats.problems,
            "warnings": stats.warnings,
            "findings": problems,
        }
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
        for problem in validate_files(files, stats):
            click.echo(_as_text(problem))
        click.echo(f"{stats.files} files, {stats.records} records, {stats.problems} problems, "
                   f"{stats.warnings} warnings")
    if stats.problems:
        ctx.exit(EXIT_REJECTED)
