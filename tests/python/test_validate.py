"""`cdp-loader validate`: every kind of problem, with its file, line and referenceId."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cdp_loader.cli import cli
from cdp_loader.validate import ValidationStats, validate_files
from export_helpers import (
    canonical_json,
    create_batch_records_db,
    delete_value,
    envelope,
    order_value,
    sample_records,
)


def run_validate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["validate", *args])


def gz_file(path: Path, lines: list[str] | bytes) -> Path:
    """A gzip batch file with exactly these lines (each given with its own terminator)."""
    data = lines if isinstance(lines, bytes) else "".join(lines).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


def line(record: dict) -> str:
    return canonical_json(record) + "\n"


def good(number: int) -> str:
    return line(envelope("insert", order_value(number)))


def test_export_output_of_valid_records_is_clean(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    create_batch_records_db(database, sample_records(inserts=30, deletes=4, payload_bytes=200))
    exported = CliRunner().invoke(cli, ["export", "--no-progress", "--out", str(tmp_path / "out"),
                                        "--database", str(database), "--max-bytes", "4000"])
    assert exported.exit_code == 0, exported.output
    result = run_validate(str(tmp_path / "out"))
    files = len(list((tmp_path / "out").glob("batch-*.json.gz")))
    assert files > 1
    assert result.exit_code == 0, result.output
    assert result.output == f"{files} files, 34 records, 0 problems, 0 warnings\n"


def test_problems_of_lines_carry_line_number_and_reference(tmp_path: Path) -> None:
    bad_status = envelope("insert", order_value(3) | {"status": "SHIPPED"})
    path = gz_file(tmp_path / "batch-00001.json.gz", [
        good(1),
        "{not json\n",
        line(bad_status),
        "\n",
        "[1, 2]\n",
        '{"ref": "a", "ref": "b"}\n',
        good(2).replace("\n", "\r\n"),
        line(envelope("delete", delete_value(9))),
    ])
    result = run_validate(str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:2 -: line is not valid JSON",
        f"{path}:3 R0000003: value.status 'SHIPPED' is not an order status",
        f"{path}:4 -: blank line",
        f"{path}:5 -: line is not a JSON object",
        f"{path}:6 -: duplicate key 'ref' in a JSON object",
        f"{path}:7 R0000002: line ends with CR LF, not LF",
        "1 files, 8 records, 6 problems, 0 warnings",
    ]


def test_invalid_utf8_and_missing_final_newline(tmp_path: Path) -> None:
    data = good(1).encode() + b'{"ref": "\xff"}\n' + good(2).rstrip("\n").encode()
    path = gz_file(tmp_path / "batch-00001.json.gz", data)
    result = run_validate(str(path))
    assert result.output.splitlines() == [
        f"{path}:2 -: line is not valid UTF-8",
        f"{path}:3 R0000002: last line does not end with a newline",
        "1 files, 3 records, 2 problems, 0 warnings",
    ]


def test_not_a_number_constant_is_not_json(tmp_path: Path) -> None:
    record = envelope("insert", order_value(1))
    text = canonical_json(record).replace('"price":180.5', '"price":NaN')
    path = gz_file(tmp_path / "batch-00001.json.gz", [text + "\n"])
    assert run_validate(str(path)).output.splitlines()[0] == f"{path}:1 -: line is not valid JSON"


def test_duplicate_ref_across_files_and_same_order_twice_in_a_file(tmp_path: Path) -> None:
    first = gz_file(tmp_path / "batch-00001.json.gz", [good(1), good(2)])
    reordered = envelope("insert", order_value(2) | {"price": 99.5})  # same order, new ref
    second = gz_file(tmp_path / "batch-00002.json.gz", [good(1), good(2), line(reordered)])
    result = run_validate(str(tmp_path))
    assert result.exit_code == 1
    # Each file's own problems first, then the refs repeated over the run.
    assert result.output.splitlines() == [
        f"{second}:3 R0000002: same referenceId and orderedAt as line 2 of this file",
        f"{second}:1 R0000001: ref repeats the ref of {first}:1",
        f"{second}:2 R0000002: ref repeats the ref of {first}:2",
        "2 files, 5 records, 3 problems, 0 warnings",
    ]


def test_a_ref_repeated_in_its_own_file_and_refs_that_need_quoting(tmp_path: Path) -> None:
    # Refs travel through a CSV: commas, quotes and line feeds come back whole.
    odd = 'a,"b"\nc'
    lines = [line({**envelope("insert", order_value(n)), "ref": ref})
             for n, ref in ((1, odd), (2, odd + " "), (3, odd), (4, "x"))]
    path = gz_file(tmp_path / "batch-00001.json.gz", lines)
    result = run_validate(str(path))
    assert result.output.splitlines() == [
        *(f"{path}:{n} R000000{n}: ref is not a UUID" for n in range(1, 5)),
        f"{path}:3 R0000003: ref repeats the ref of {path}:1",
        "1 files, 4 records, 5 problems, 0 warnings",
    ]


def test_files_checked_in_parallel_give_what_one_process_gives(tmp_path: Path) -> None:
    paths = [gz_file(tmp_path / f"batch-{n:05d}.json.gz", [good(n), good(n + 1), "{\n"])
             for n in range(1, 6)]
    in_parallel, in_process = ValidationStats(), ValidationStats()
    parallel = list(validate_files(paths, in_parallel, workers=2))
    assert parallel == list(validate_files(paths, in_process, workers=1))
    assert in_parallel == in_process == ValidationStats(files=5, records=15, problems=len(parallel))
    assert [(p.file, p.line) for p in parallel[-4:]] == [
        (str(paths[n]), 1) for n in range(1, 5)
    ]


def test_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "batch-00001.json.gz"
    path.write_text(good(1))
    result = run_validate(str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:0 -: not a gzip file (no 1f 8b magic bytes)",
        "1 files, 0 records, 1 problems, 0 warnings",
    ]


def test_two_gzip_members(tmp_path: Path) -> None:
    path = tmp_path / "batch-00001.json.gz"
    path.write_bytes(gzip.compress(good(1).encode(), mtime=0) + gzip.compress(good(2).encode()))
    assert run_validate(str(path)).output.splitlines() == [
        f"{path}:0 -: more than one gzip member",
        "1 files, 1 records, 1 problems, 0 warnings",
    ]


def test_corrupt_crc(tmp_path: Path) -> None:
    path = tmp_path / "batch-00001.json.gz"
    data = bytearray(gzip.compress(good(1).encode(), mtime=0))
    data[-8] ^= 0xFF  # first byte of the CRC-32
    path.write_bytes(bytes(data))
    # The check fails in the block that holds the line, so no line is read.
    assert run_validate(str(path)).output.splitlines() == [
        f"{path}:0 -: gzip data is corrupt (bad deflate data or CRC)",
        "1 files, 0 records, 1 problems, 0 warnings",
    ]


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "batch-00001.json.gz"
    path.write_bytes(gzip.compress((good(1) + good(2)).encode(), mtime=0)[:-20])
    result = run_validate(str(path))
    assert result.exit_code == 1
    assert result.output.splitlines()[-2] == f"{path}:0 -: gzip data is truncated"


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "batch-00001.json.gz"
    with path.open("wb") as handle:
        handle.write(gzip.compress(good(1).encode(), mtime=0))
        handle.truncate(50_000_001)  # sparse: the tail is zeros after the member
    result = run_validate(str(path))
    assert result.output.splitlines() == [
        f"{path}:0 -: 50000001 bytes, over the 50000000 limit",
        f"{path}:0 -: bytes after the end of the gzip member",
        "1 files, 1 records, 2 problems, 0 warnings",
    ]


def test_json_format_for_machines(tmp_path: Path) -> None:
    path = gz_file(tmp_path / "batch-00001.json.gz", [good(1), "\n"])
    result = run_validate("--format", "json", str(path))
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "files": 1,
        "records": 2,
        "problems": 1,
        "warnings": 0,
        "findings": [{"file": str(path), "line": 2, "reference_id": "-", "message": "blank line",
                      "severity": "error"}],
    }


def test_messages_do_not_echo_personal_data(tmp_path: Path) -> None:
    record = envelope("insert", order_value(1))
    record["value"]["contact"]["email"] = ["private.person@example.com"]
    path = gz_file(tmp_path / "batch-00001.json.gz", [line(record)])
    result = run_validate(str(path))
    assert result.exit_code == 1
    assert "private.person" not in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_validate(str(tmp_path / "nowhere.json.gz"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_folder_without_batch_files_is_a_usage_error(tmp_path: Path) -> None:
    result = run_validate(str(tmp_path))
    assert result.exit_code == 2
    assert result.output == f"cdp-loader: no batch-*.json.gz files in {tmp_path}\n"


def test_no_path_is_a_usage_error() -> None:
    assert run_validate().exit_code == 2


@pytest.mark.parametrize("size", [0, 1])
def test_empty_or_tiny_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "batch-00001.json.gz"
    path.write_bytes(os.urandom(size) if size else b"")
    result = run_validate(str(path))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{path}:0 -: not a gzip file (no 1f 8b magic bytes)"


# --- every mode, warnings, the documentation's examples (issue 11) --------------------

DOCUMENTATION_EXAMPLES = json.loads(
    (Path(__file__).parent / "data" / "documentation_examples.json").read_text(encoding="utf-8"))


def test_the_documentations_examples_are_clean(tmp_path: Path) -> None:
    # One run each: the CDP pages reuse one ref for every example.
    for number, example in enumerate(DOCUMENTATION_EXAMPLES, start=1):
        path = gz_file(tmp_path / f"batch-{number:05d}.json.gz", [line(example["record"])])
        result = run_validate(str(path))
        assert (result.exit_code, result.output) == (
            0, "1 files, 1 records, 0 problems, 0 warnings\n"), example["source"]


def test_an_upsert_line_is_checked_whole_and_unknown_keys_are_warnings(tmp_path: Path) -> None:
    value = order_value(5)
    value["reference"] = value.pop("referenceId")
    value["orderContact"] = value.pop("contact")
    value["orderItems"] = [{"referenceId": "R0000005-1", "status": "CANCELLED"}]
    del value["consumers"]
    record = envelope("upsert", value)
    path = gz_file(tmp_path / "batch-00001.json.gz", [line(record)])
    result = run_validate(str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:1 -: value.referenceId is required",
        f"{path}:1 -: value.contact is required",
        f"{path}:1 -: warning: value.reference is not an attribute of this model; "
        "did you mean referenceId?",
        f"{path}:1 -: warning: value.orderContact is not an attribute of this model; "
        "did you mean contact?",
        "1 files, 1 records, 2 problems, 2 warnings",
    ]


def test_warnings_alone_leave_the_exit_status_zero(tmp_path: Path) -> None:
    record = envelope("insert", order_value(1) | {"shippedAt": "2025-03-02T10:00:00.000Z"})
    path = gz_file(tmp_path / "batch-00001.json.gz", [line(record), good(2)])
    result = run_validate(str(path))
    assert (result.exit_code, result.output.splitlines()) == (0, [
        f"{path}:1 R0000001: warning: value.shippedAt is not an attribute of this model",
        "1 files, 2 records, 0 problems, 1 warnings",
    ])
    machine = json.loads(run_validate("--format", "json", str(path)).output)
    assert (machine["problems"], machine["warnings"]) == (0, 1)
    assert machine["findings"][0]["severity"] == "warning"
    stats = ValidationStats()
    assert [p.severity for p in validate_files([path], stats)] == ["warning"]
    assert stats == ValidationStats(files=1, records=2, problems=0, warnings=1)
