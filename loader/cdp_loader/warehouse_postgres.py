"""The PostgreSQL warehouse (the postgres target), through psycopg2.

The batch records stream through a named (server-side) cursor, `itersize`
rows a round trip, so an export holds one chunk at a time whatever the mart's
size. Appends load the staged CSV with COPY into a temporary table and insert
what is new, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cdp_loader.errors import LoaderError
from cdp_loader.records import COLUMNS, DEFAULT_CHUNK_ROWS, BatchRecord, record_chunks
from cdp_loader.records import check_columns as check_record_columns
from cdp_loader.warehouse import (
    Column,
    Target,
    first_line,
    insert_new_rows_sql,
    select_new_rows_sql,
)

TYPES = {"text": "text", "bigint": "bigint", "int": "integer", "double": "double precision",
         "timestamp": "timestamp"}
# ordered_at leaves the warehouse as the text CDP matches on (as records.py does on DuckDB).
_SELECTED = ", ".join(
    """to_char(ordered_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ordered_at"""
    if column == "ordered_at" else column for column in COLUMNS)


class PostgresWarehouse:
    """One connection to the target's database, opened on first use."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.schema = target.schema
        self._connection: Any = None

    def _connect(self) -> Any:
        if self._connection is not None:
            return self._connection
        try:
            import psycopg2
        except ImportError:
            raise LoaderError("psycopg2 is not installed (pip install -e '.[postgres]')") from None
        s = self.target.settings
        try:
            self._connection = psycopg2.connect(
                host=s.get("host"), port=s.get("port"), user=s.get("user"),
                password=s.get("password") or None, dbname=s.get("database"),
                connect_timeout=s.get("connect_timeout") or 10, sslmode=s.get("sslmode"),
                application_name="cdp-loader")
        except psycopg2.Error as exc:
            raise LoaderError(f"cannot connect to {self.target.describe()}: "
                              f"{first_line(exc)}") from None
        return self._connection

    def relation(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def _read(self, query: str, params: Sequence[object] = ()) -> tuple[list[str], list[tuple]]:
        import psycopg2

        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, tuple(params))
                names = [column[0] for column in cursor.description or ()]
                rows = cursor.fetchall() if cursor.description else []
            connection.rollback()  # read-only: end the transaction, hold no snapshot
        except psycopg2.Error as exc:
            connection.rollback()
            raise LoaderError(f"cannot read {self.target.describe()}: {first_line(exc)}") from None
        return names, rows

    def tables(self) -> set[str]:
        _, rows = self._read("select table_name from information_schema.tables "
                             "where table_schema = %s", [self.schema])
        return {row[0] for row in rows}

    def _check_records(self, name: str) -> str:
        relation = self.relation(name)
        _, rows = self._read("select column_name from information_schema.columns "
                             "where table_schema = %s and table_name = %s", [self.schema, name])
        check_record_columns(relation, {row[0] for row in rows})
        return relation

    def count_records(self, name: str) -> int:
        relation = self._check_records(name)
        _, rows = self._read(f"select count(*) from {relation}")
        return int(rows[0][0])

    def iter_record_chunks(self, name: str,
                           chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[BatchRecord]]:
        import psycopg2

        relation = self._check_records(name)
        connection = self._connect()
        try:
            with connection.cursor(name="cdp_loader_records") as cursor:
                cursor.itersize = chunk_rows
                cursor.execute(f"select {_SELECTED} from {relation} order by seq")
                yield from record_chunks(cursor, relation, chunk_rows)
        except psycopg2.Error as exc:
            raise LoaderError(f"cannot read {relation} in {self.target.describe()}: "
                              f"{first_line(exc)}") from None
        finally:
            if not connection.closed:
                connection.rollback()

    def fetch(self, query: str) -> list[dict[str, Any]]:
        names, rows = self._read(query)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def append_new_rows(self, name: str, columns: Sequence[Column], staged: Path,
                        key: Sequence[str], count_by: str | None = None) -> tuple[int, dict]:
        import psycopg2

        relation = self.relation(name)
        connection = self._connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("create temp table staged ("
                               + ", ".join(f"{c.name} text" for c in columns)
                               + ") on commit drop")
                with Path(staged).open(encoding="utf-8") as handle:
                    cursor.copy_expert("copy staged from stdin with (format csv)", handle)
                cursor.execute("select count(*) from staged")
                total = cursor.fetchone()[0]
                group = f"s.{count_by}" if count_by else "null"
                cursor.execute(select_new_rows_sql(relation, "staged", key,
                                                   f"{group}, count(*)") + " group by 1")
                added = dict(cursor.fetchall())
                cursor.execute(insert_new_rows_sql(relation, "staged", columns, key, TYPES))
            connection.commit()
        except psycopg2.Error as exc:
            connection.rollback()
            raise LoaderError(f"cannot append to {relation} in {self.target.describe()}: "
                              f"{first_line(exc)}") from None
        except BaseException:
            connection.rollback()
            raise
        return int(total), added

    def close(self) -> None:
        if self._connection is not None and not self._connection.closed:
            self._connection.close()
        self._connection = None

