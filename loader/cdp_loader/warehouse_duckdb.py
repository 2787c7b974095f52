"""The DuckDB warehouse (a file) and Parquet files read through DuckDB.

Each call opens its own connection, read-only unless it writes, as the loader
always did: a file DuckDB holds open read-write cannot be opened by dbt, and
one read-only connection would stop this process from writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from cdp_loader import records
from cdp_loader.errors import LoaderError
from cdp_loader.records import DEFAULT_CHUNK_ROWS, BatchRecord, ParquetRecords, RecordSource
from cdp_loader.warehouse import (
    PRODUCTION_SCHEMA,
    Column,
    Target,
    first_line,
    insert_new_rows_sql,
    select_new_rows_sql,
)

TYPES = {"text": "varchar", "bigint": "bigint", "int": "integer", "double": "double",
         "timestamp": "timestamp"}


class DuckDbWarehouse:
    """A DuckDB file (the duckdb target), or Parquet files standing for cdp_batch_records."""

    def __init__(self, target: Target | None, source: RecordSource) -> None:
        self.source = source
        self.target = target or Target("parquet", "duckdb", PRODUCTION_SCHEMA,
                                       {"path": getattr(source, "glob", source)})
        self.schema = records.RELATION_SCHEMA if isinstance(source, ParquetRecords) \
            else self.target.schema

    def relation(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def _file(self) -> Path:
        if isinstance(self.source, ParquetRecords):
            raise LoaderError(f"Parquet files {self.source.glob} hold the batch records only")
        return Path(self.source)

    def tables(self) -> set[str]:
        with records.connect_warehouse(self._file()) as connection:
            return {row[0] for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [self.schema]).fetchall()}

    def count_records(self, name: str) -> int:
        return records.count_records(self.source, name, self.schema)

    def iter_record_chunks(self, name: str,
                           chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[BatchRecord]]:
        return records.iter_record_chunks(self.source, chunk_rows, name, self.schema)

    def fetch(self, query: str) -> list[dict[str, Any]]:
        with records.connect_warehouse(self._file()) as connection:
            cursor = connection.execute(query)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def append_new_rows(self, name: str, columns: Sequence[Column], staged: Path,
                        key: Sequence[str], count_by: str | None = None) -> tuple[int, dict]:
        relation = self.relation(name)
        struct = "{" + ", ".join(f"'{c.name}': 'VARCHAR'" for c in columns) + "}"
        with records.connect_warehouse(self._file(), read_only=False) as connection:
            connection.execute("begin transaction")
            try:
                connection.execute(
                    "create temp table staged as select * from read_csv(?, header = false, "
                    "delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, "
                    f"columns = {struct})", [str(staged)])
                total = connection.execute("select count(*) from staged").fetchone()[0]
                group = f"s.{count_by}" if count_by else "null"
                added = dict(connection.execute(
                    select_new_rows_sql(relation, "staged", key, f"{group}, count(*)")
                    + " group by 1").fetchall())
                connection.execute(insert_new_rows_sql(relation, "staged", columns, key, TYPES))
                connection.execute("commit")
            except duckdb.Error as exc:
                # A full disk, a constraint: nothing of this append is kept.
                connection.execute("rollback")
                raise LoaderError(f"cannot append to {relation} in {self.target.describe()}: "
                                  f"{first_line(exc)}") from None
            except BaseException:
                connection.execute("rollback")
                raise
        return int(total), added

    def close(self) -> None:
        """Nothing is held between calls."""
