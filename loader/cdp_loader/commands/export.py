"""`cdp-loader export`: the mart's batch records to gzipped NDJSON files and a manifest."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cdp_loader.batch_files import MAX_BATCH_BYTES, MIN_BATCH_BYTES, write_batch_files
from cdp_loader.commands.ship import target_option
from cdp_loader.errors import EXIT_STATUS_HELP, LoaderError
from cdp_loader.progress import progress
from cdp_loader.records import FULL_EXPORT, ParquetRecords
from cdp_loader.warehouse import Target, connect, resolve_target


@click.command("export", epilog=EXIT_STATUS_HELP)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the batch files (created 0700). An earlier export that was never "
    "shipped is replaced; one that was shipped is refused (see --archive-previous).",
)
@click.option(
    "--database",
    envvar="CDP_DUCKDB_PATH",
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="DuckDB file holding cdp.cdp_batch_records (the duckdb target).",
)
@target_option
@click.option(
    "--from-parquet",
    "parquet_glob",
    metavar="GLOB",
    help="Read cdp.cdp_batch_records from Parquet files instead (a path or a glob, "
    "e.g. 'records/*.parquet'), as Spark or a cloud warehouse writes them.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(MIN_BATCH_BYTES, MAX_BATCH_BYTES),
    default=MAX_BATCH_BYTES,
    show_default=True,
    help="Largest compressed size of one batch file.",
)
@click.option(
    "--archive-previous",
    is_flag=True,
    help="If OUT holds an export that was shipped, move it whole (files, manifest, ledger, "
    "rejects) to OUT/shipped-<UTC time>/ first, instead of refusing.",
)
@click.option("--wait", is_flag=True,
              help="If another process ships or exports OUT, wait for it to end.")
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
def export(
    out_dir: Path, database: Path | None, target: str | None, parquet_glob: str | None,
    max_bytes: int,
    archive_previous: bool, wait: bool, no_progress: bool,
) -> None:
    """Write the batch records of the mart to gzipped NDJSON files in OUT.

    Files are named batch-00001.json.gz, batch-00002.json.gz, ... in upload
    order (deletes first), none over --max-bytes; each has an index
    batch-NNNNN.index.tsv (ref, order_id, reference_id, mode) and OUT/manifest.json
    lists every file with its record count, size and MD5.

    Two exports never mix: a folder that holds the ledger of a ship is refused
    (exit 2) unless --archive-previous; a folder being shipped is refused
    (exit 2, naming the process) unless --wait. An export that fails half-way
    (a full disk) removes what it wrote.

    \b
    Example:
        dbt build --profiles-dir profiles
        cdp-loader export --out batches/ --database warehouse.duckdb
        CDP_DBT_TARGET=postgres cdp-loader export --out batches/
        cdp-loader export --out batches/ --from-parquet 'records/*.parquet'
    """
    source: Target | ParquetRecords
    if parquet_glob is not None:
        source = ParquetRecords(parquet_glob)
    elif database is None and (target or "duckdb") == "duckdb":
        raise LoaderError("name the records: --database (or CDP_DUCKDB_PATH), --target "
                          "(or CDP_DBT_TARGET) or --from-parquet")
    else:
        source = resolve_target(target, database=database)
    started = time.monotonic()
    with connect(source) as warehouse:
        total = warehouse.count_records(FULL_EXPORT)
        with progress("Exporting records", total, disabled=no_progress) as advance:
            result = write_batch_files(
                warehouse.iter_record_chunks(FULL_EXPORT), out_dir, max_bytes=max_bytes,
                on_records=advance, archive_previous=archive_previous, wait=wait,
            )
    elapsed = time.monotonic() - started
    if result.archived is not None:
        click.echo(f"the earlier, shipped export was moved to {result.archived}")
    click.echo(
        f"exported {result.records} records into {len(result.files)} files, "
        f"{result.bytes} bytes, in {elapsed:.1f} s: {out_dir}"
    )
