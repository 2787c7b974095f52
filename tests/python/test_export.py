"""`cdp-loader export`: exact batch files, splitting, manifest, index and errors."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import random
import stat
import struct
import tempfile
import zlib
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp_loader.batch_files import MAX_BATCH_BYTES, write_batch_files
from cdp_loader.cli import cli
from cdp_loader.errors import LoaderError
from cdp_loader.records import BatchRecord
from export_helpers import create_batch_records_db, sample_records

GZIP_HEADER = bytes.fromhex("1f8b0800" "00000000" "00ff")


@pytest.fixture
def warehouse(tmp_path: Path) -> tuple[Path, list[str]]:
    """A DuckDB file with 3 deletes and 12 inserts; returns (path, lines in seq order)."""
    database = tmp_path / "warehouse.duckdb"
    lines = create_batch_records_db(database, sample_records(inserts=12, deletes=3))
    return database, lines


@pytest.fixture
def bulky_warehouse(tmp_path: Path) -> tuple[Path, list[str]]:
    """60 inserts with 600 bytes of hex payload each: they compress badly, so files split."""
    database = tmp_path / "bulky.duckdb"
    lines = create_batch_records_db(database, sample_records(inserts=60, payload_bytes=600))
    return database, lines


def run_export(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["export", "--no-progress", *args], env=env)


def gz_members(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").splitlines(keepends=True)


def alone_in_files(lines: list[str], limit: int = MAX_BATCH_BYTES) -> list[bytes]:
    """The batch files that `lines` make when written on their own, one record per chunk.

    The files are cut and compressed by the lines alone, whatever the chunks, so
    a file must equal what its own lines make, and a file that is full must take
    two once the next line joins its lines.
    """
    records = [
        BatchRecord(number, f"r{number}", "order", "insert", number, f"R{number}",
                    "2025-01-01T00:00:00.000Z", f"{number:032x}", line.removesuffix("\n"))
        for number, line in enumerate(lines, start=1)
    ]
    with tempfile.TemporaryDirectory() as folder:
        result = write_batch_files([[record] for record in records], Path(folder), limit)
        return [(Path(folder) / info.file).read_bytes() for info in result.files]


def raw_deflate_lines(path: Path) -> list[str]:
    """Inflate the member with zlib itself, checking CRC-32 and length, and a single member."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = decompressor.decompress(path.read_bytes()) + decompressor.flush()
    assert decompressor.eof and not decompressor.unused_data
    return data.decode("utf-8").splitlines(keepends=True)


def test_export_writes_the_records_as_exact_gzip_ndjson(
    warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, lines = warehouse
    out = tmp_path / "out"
    result = run_export("--out", str(out), "--database", str(database))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exported 15 records into 2 files, ")
    # Deletes and inserts never share a file: the deletes come first, alone.
    deletes = [line for line in lines if '"mode":"delete"' in line]
    inserts = [line for line in lines if '"mode":"insert"' in line]
    assert lines == deletes + inserts and deletes and inserts
    for name, part in (("batch-00001.json.gz", deletes), ("batch-00002.json.gz", inserts)):
        batch = out / name
        assert gzip.decompress(batch.read_bytes()) == ("\n".join(part) + "\n").encode("utf-8")
        assert raw_deflate_lines(batch) == [line + "\n" for line in part]
        assert [batch.read_bytes()] == alone_in_files([line + "\n" for line in part])
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock", "batch-00001.index.tsv", "batch-00001.json.gz",
        "batch-00002.index.tsv", "batch-00002.json.gz", "manifest.json",
    ]


def test_a_warehouse_file_named_like_a_schema_exports_the_same(
    warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    # Opened as cdp.duckdb, DuckDB would name the catalog `cdp` too, and
    # `cdp.cdp_batch_records` would be ambiguous.
    database, lines = warehouse
    renamed = tmp_path / "cdp.duckdb"
    renamed.write_bytes(database.read_bytes())
    result = run_export("--out", str(tmp_path / "out"), "--database", str(renamed))
    assert result.exit_code == 0, result.output
    exported = [gzip.decompress((tmp_path / "out" / name).read_bytes()).decode("utf-8")
                for name in ("batch-00001.json.gz", "batch-00002.json.gz")]
    assert "".join(exported).splitlines() == lines


def test_gzip_header_has_mtime_zero_and_no_file_name(
    warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, _ = warehouse
    run_export("--out", str(tmp_path / "out"), "--database", str(database))
    header = (tmp_path / "out" / "batch-00001.json.gz").read_bytes()[:10]
    assert header == GZIP_HEADER
    flags, mtime = header[3], struct.unpack("<I", header[4:8])[0]
    assert flags & 0x08 == 0  # FNAME
    assert mtime == 0


def test_two_exports_are_byte_identical(
    bulky_warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, _ = bulky_warehouse
    for name in ("a", "b"):
        result = run_export("--out", str(tmp_path / name), "--database", str(database),
                            "--max-bytes", "6000")
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert len(names) > 3
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_files_are_private(warehouse: tuple[Path, list[str]], tmp_path: Path) -> None:
    database, _ = warehouse
    out = tmp_path / "fresh" / "out"
    run_export("--out", str(out), "--database", str(database))
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_small_limit_splits_on_record_boundaries_and_fills_each_file(
    bulky_warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, lines = bulky_warehouse
    out = tmp_path / "out"
    limit = 5000
    result = run_export("--out", str(out), "--database", str(database),
                        "--max-bytes", str(limit))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    files = [out / entry["file"] for entry in manifest["files"]]
    assert len(files) >= 4
    per_file = [gz_members(path) for path in files]
    assert [line for chunk in per_file for line in chunk] == [line + "\n" for line in lines]
    for path, chunk, following in zip(files, per_file, per_file[1:], strict=False):
        assert path.stat().st_size <= limit
        # Filled: the next file's first line would have taken this one over the limit.
        assert len(alone_in_files([*chunk, following[0]], limit)) == 2
    assert files[-1].stat().st_size <= limit


def test_manifest_names_each_file_with_counts_and_md5(
    bulky_warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, lines = bulky_warehouse
    out = tmp_path / "out"
    run_export("--out", str(out), "--database", str(database), "--max-bytes", "8000")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == 2
    assert manifest["max_bytes"] == 8000
    seq = 1
    for number, entry in enumerate(manifest["files"], start=1):
        data = (out / entry["file"]).read_bytes()
        chunk = gz_members(out / entry["file"])
        assert entry["file"] == f"batch-{number:05d}.json.gz"
        assert entry["index"] == f"batch-{number:05d}.index.tsv"
        assert entry["md5"] == hashlib.md5(data).hexdigest()
        assert entry["bytes"] == len(data)
        index = (out / entry["index"]).read_bytes()
        assert entry["index_md5"] == hashlib.md5(index).hexdigest()
        assert entry["records"] == len(chunk)
        assert entry["first_seq"] == seq
        assert entry["last_seq"] == seq + len(chunk) - 1
        assert entry["first_reference_id"] == json.loads(chunk[0])["value"]["referenceId"]
        assert entry["last_reference_id"] == json.loads(chunk[-1])["value"]["referenceId"]
        seq += len(chunk)
    assert manifest["records"] == len(lines) == seq - 1
    assert manifest["bytes"] == sum(entry["bytes"] for entry in manifest["files"])


def test_index_sidecar_maps_each_line_to_its_order(
    warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, lines = warehouse
    out = tmp_path / "out"
    run_export("--out", str(out), "--database", str(database))
    deletes = (out / "batch-00001.index.tsv").read_text(encoding="utf-8").splitlines()
    inserts = (out / "batch-00002.index.tsv").read_text(encoding="utf-8").splitlines()
    header = "ref\torder_id\treference_id\tmode\tordered_at\trecord_hash"
    assert deletes[0] == inserts[0] == header
    first, fourth = json.loads(lines[0]), json.loads(lines[3])
    assert deletes[1].startswith(f"{first['ref']}\t1001\tD0000001\tdelete\t")
    assert inserts[1].startswith(f"{fourth['ref']}\t1004\tR0000001\tinsert\t")
    assert len(deletes) + len(inserts) == 2 + len(lines)
    assert "@" not in "".join(deletes + inserts)


def test_export_replaces_an_export_never_shipped_but_keeps_other_files(
    warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, _ = warehouse
    out = tmp_path / "out"
    out.mkdir()
    for stale in ("batch-00007.json.gz", "batch-00007.index.tsv", "manifest.json"):
        (out / stale).write_text("stale")
    (out / "notes.txt").write_text("mine")
    result = run_export("--out", str(out), "--database", str(database))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock", "batch-00001.index.tsv", "batch-00001.json.gz", "batch-00002.index.tsv",
        "batch-00002.json.gz", "manifest.json", "notes.txt",
    ]


def test_database_from_environment(warehouse: tuple[Path, list[str]], tmp_path: Path) -> None:
    database, _ = warehouse
    result = run_export("--out", str(tmp_path / "out"), env={"CDP_DUCKDB_PATH": str(database)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "batch-00001.json.gz").exists()


def test_empty_relation_gives_an_empty_manifest(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    create_batch_records_db(database, [])
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest == {"format": 2, "max_bytes": MAX_BATCH_BYTES, "files": [], "records": 0,
                        "bytes": 0}


def test_missing_database_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_export("--out", str(tmp_path / "out"), "--database", str(tmp_path / "no.duckdb"))
    assert result.exit_code == 2
    assert result.output == (
        f"cdp-loader: database {tmp_path / 'no.duckdb'} does not exist; "
        "run `dbt build --profiles-dir profiles` first\n"
    )
    assert not (tmp_path / "out").exists()


def test_missing_relation_is_one_line_exit_2(tmp_path: Path) -> None:
    database = tmp_path / "raw_only.duckdb"
    duckdb.connect(str(database)).close()
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database))
    assert result.exit_code == 2
    assert result.output == (
        "cdp-loader: relation cdp.cdp_batch_records is missing; "
        "run `dbt build --profiles-dir profiles` first\n"
    )
    assert "Traceback" not in result.output


def test_relation_without_a_contract_column(tmp_path: Path) -> None:
    database = tmp_path / "old.duckdb"
    connection = duckdb.connect(str(database))
    connection.execute("create schema cdp; create table cdp.cdp_batch_records (seq bigint, "
                       "record varchar)")
    connection.close()
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database))
    assert result.exit_code == 2
    assert result.output == (
        "cdp-loader: relation cdp.cdp_batch_records lacks column(s) ref, schema, mode, order_id, "
        "reference_id, ordered_at, record_hash; run `dbt build --profiles-dir profiles` first\n"
    )


@pytest.mark.parametrize("value", ["50000001", "999", "-5"])
def test_max_bytes_out_of_range_is_a_usage_error(
    warehouse: tuple[Path, list[str]], tmp_path: Path, value: str
) -> None:
    database, _ = warehouse
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database),
                        "--max-bytes", value)
    assert result.exit_code == 2
    assert "Invalid value for '--max-bytes'" in result.output


def test_a_record_too_big_for_any_file_is_named_by_reference(tmp_path: Path) -> None:
    database = tmp_path / "big.duckdb"
    create_batch_records_db(database, sample_records(inserts=2, payload_bytes=3000))
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database),
                        "--max-bytes", "1000")
    assert result.exit_code == 2
    assert result.output == (
        "cdp-loader: record of order R0000001 (order_id 1001) alone does not fit in 1000 "
        "compressed bytes\n"
    )
    assert not list((tmp_path / "out").glob("batch-*"))


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    assert "cdp-loader export --out batches/" in result.output
    assert "CDP_DUCKDB_PATH" in result.output


def random_records(seed: int, count: int, noise_chars: int = 900) -> list[BatchRecord]:
    """Lines of random length and randomness, so compressed sizes vary a lot."""
    rng = random.Random(seed)
    records = []
    for seq in range(1, count + 1):
        noise = "".join(rng.choice("0123456789abcdef")
                        for _ in range(rng.randrange(0, noise_chars)))
        filler = "x" * rng.randrange(0, 2000)
        line = json.dumps({"ref": f"r{seq}", "value": {"referenceId": f"R{seq}",
                                                         "n": noise, "f": filler}})
        records.append(BatchRecord(seq, f"r{seq}", "order", "insert", seq, f"R{seq}",
                                   "2025-01-01T00:00:00.000Z", f"{seq:032x}", line))
    return records


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), count=st.integers(1, 80), limit=st.integers(1_900, 12_000),
       chunk=st.integers(1, 30))
def test_splitting_never_exceeds_the_limit_nor_loses_a_line(
    seed: int, count: int, limit: int, chunk: int
) -> None:
    records = random_records(seed, count)
    chunks = [records[i:i + chunk] for i in range(0, count, chunk)]
    with tempfile.TemporaryDirectory() as folder:
        result = write_batch_files(chunks, Path(folder), max_bytes=limit)
        written = []
        for info in result.files:
            path = Path(folder) / info.file
            assert os.path.getsize(path) == info.bytes <= limit
            content = gz_members(path)
            assert [path.read_bytes()] == alone_in_files(content, limit)
            written.append(content)
        assert [line for lines in written for line in lines] == [r.record + "\n" for r in records]
        for lines, following in itertools.pairwise(written):
            assert len(alone_in_files([*lines, following[0]], limit)) == 2


def test_files_of_many_pieces_are_the_same_whatever_the_chunks(tmp_path: Path) -> None:
    """Over 512 lines a file is several deflate pieces; chunking must not move a cut."""
    records = random_records(7, 1300, noise_chars=60)
    limit = 25_000
    outputs = []
    for chunk in (1, 700, 1300):
        out = tmp_path / f"chunks-{chunk}"
        write_batch_files([records[i:i + chunk] for i in range(0, len(records), chunk)], out,
                          max_bytes=limit)
        outputs.append({path.name: path.read_bytes() for path in out.iterdir()})
    assert outputs[0] == outputs[1] == outputs[2]
    files = [tmp_path / "chunks-1" / name for name in sorted(outputs[0])
             if name.endswith(".json.gz")]
    assert len(files) >= 3
    written = [raw_deflate_lines(path) for path in files]
    assert [line for lines in written for line in lines] == [r.record + "\n" for r in records]
    for path, lines, following in zip(files, written, written[1:], strict=False):
        assert path.stat().st_size <= limit
        assert len(alone_in_files([*lines, following[0]], limit)) == 2


def test_no_progress_bar_when_not_on_a_terminal(
    warehouse: tuple[Path, list[str]], tmp_path: Path
) -> None:
    database, _ = warehouse
    result = CliRunner().invoke(
        cli, ["export", "--out", str(tmp_path / "out"), "--database", str(database)]
    )
    assert result.exit_code == 0
    assert result.output.count("\n") == 1
    assert result.output.startswith("exported 15 records into 2 files, ")


def test_a_broken_size_bound_can_never_let_an_oversized_file_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The guard behind the bound: with the bound made wrong on purpose, export refuses."""
    import cdp_loader.batch_files as batch_files

    monkeypatch.setattr(batch_files, "_BOUND_FACTOR", 0)
    monkeypatch.setattr(batch_files, "_BOUND_SLACK", 0)
    with pytest.raises(LoaderError, match=r"internal error: batch-00001.json.gz came out at \d+"):
        write_batch_files([random_records(1, 40)], tmp_path / "out", max_bytes=2000)
    # Nothing of the failed export is left but the (released, empty) lock file.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lock"]
    assert (tmp_path / "out" / ".lock").read_bytes() == b""


def test_relation_stored_out_of_order_is_still_exported_by_seq(tmp_path: Path) -> None:
    database = tmp_path / "shuffled.duckdb"
    lines = create_batch_records_db(database, sample_records(inserts=8, deletes=2))
    connection = duckdb.connect(str(database))
    connection.execute("create table cdp.shuffled as select * from cdp.cdp_batch_records "
                       "order by seq desc; drop table cdp.cdp_batch_records; "
                       "alter table cdp.shuffled rename to cdp_batch_records")
    connection.close()
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database))
    assert result.exit_code == 0, result.output
    exported = gz_members(tmp_path / "out" / "batch-00001.json.gz") + gz_members(
        tmp_path / "out" / "batch-00002.json.gz")
    assert exported == [line + "\n" for line in lines]


@pytest.mark.parametrize("bad_seq", ["null", "1"])
def test_repeated_or_null_seq_is_refused(tmp_path: Path, bad_seq: str) -> None:
    database = tmp_path / "bad.duckdb"
    create_batch_records_db(database, sample_records(inserts=4))
    connection = duckdb.connect(str(database))
    connection.execute(f"update cdp.cdp_batch_records set seq = {bad_seq} where seq = 3")
    connection.close()
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database))
    assert result.exit_code == 2
    assert result.output == (
        "cdp-loader: cdp.cdp_batch_records has a repeated or null seq; "
        "run `dbt build --profiles-dir profiles` first\n"
    )
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_file_that_is_not_a_duckdb_database(tmp_path: Path) -> None:
    database = tmp_path / "notes.duckdb"
    database.write_text("not a database\n" * 400)
    result = run_export("--out", str(tmp_path / "out"), "--database", str(database))
    assert result.exit_code == 2
    assert result.output.startswith(f"cdp-loader: cannot open database {database}: ")
    assert result.output.count("\n") == 1
