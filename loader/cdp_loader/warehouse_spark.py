"""The Spark warehouse (the spark target), through a PySpark session in this process.

The session is built as dbt-spark's `session` method builds it (Hive support
and the profile's server_side_parameters, so the same catalog under
CDP_SPARK_DIR). The batch records come `order by seq` through
`toLocalIterator()`, one partition at a time: the driver holds a partition,
never the mart. Spark has no transactions: an append computes the staged rows
the table lacks (an anti-join), checkpoints them, then inserts exactly those,
so a repeated append adds nothing twice.

A local catalog (Derby) is opened by one process at a time: the session is
stopped when the warehouse closes, and `dbt build` runs before it opens.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cdp_loader.errors import LoaderError
from cdp_loader.records import COLUMNS, DEFAULT_CHUNK_ROWS, BatchRecord, check_ascending
from cdp_loader.records import check_columns as check_record_columns
from cdp_loader.warehouse import Column, Target, first_line, select_new_rows_sql

TYPES = {"text": "string", "bigint": "bigint", "int": "int", "double": "double",
         "timestamp": "timestamp"}
_SELECTED = ", ".join(
    "date_format(ordered_at, \"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'\") as ordered_at"
    if column == "ordered_at" else column for column in COLUMNS)
_METHODS = ("session",)


class SparkWarehouse:
    """A Spark session on the target's catalog, started on first use."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.schema = target.schema
        self._spark: Any = None

    def _session(self) -> Any:
        if self._spark is not None:
            return self._spark
        method = self.target.settings.get("method")
        if method not in _METHODS:
            raise LoaderError(f"{self.target.describe()}: the loader reaches Spark through the "
                              "session method; for a cluster, unload cdp_batch_records as "
                              "Parquet and use `export --from-parquet`")
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise LoaderError("pyspark is not installed (pip install -e '.[spark]')") from None
        builder = SparkSession.builder.appName("cdp-loader").enableHiveSupport()
        for name, value in (self.target.settings.get("server_side_parameters") or {}).items():
            builder = builder.config(name, str(value))
        try:
            self._spark = builder.getOrCreate()
            self._spark.sparkContext.setLogLevel("ERROR")
        except Exception as exc:  # py4j and the JVM's errors
            raise LoaderError(f"cannot start {self.target.describe()}: "
                              f"{first_line(exc)}") from None
        return self._spark

    def relation(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def _sql(self, query: str) -> Any:
        try:
            return self._session().sql(query)
        except LoaderError:
            raise
        except Exception as exc:
            raise LoaderError(f"cannot read {self.target.describe()}: {first_line(exc)}") from None

    def tables(self) -> set[str]:
        spark = self._session()
        if not spark.catalog.databaseExists(self.schema):
            return set()
        return {table.name for table in spark.catalog.listTables(self.schema)}

    def _check_records(self, name: str) -> str:
        relation = self.relation(name)
        present = set(self._sql(f"select * from {relation}").columns) \
            if name in self.tables() else set()
        check_record_columns(relation, present)
        return relation

    def count_records(self, name: str) -> int:
        relation = self._check_records(name)
        return int(self._sql(f"select count(*) from {relation}").collect()[0][0])

    def iter_record_chunks(self, name: str,
                           chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[BatchRecord]]:
        relation = self._check_records(name)
        rows = self._sql(f"select {_SELECTED} from {relation} order by seq").toLocalIterator()
        previous: int | None = None
        chunk: list[BatchRecord] = []
        try:
            for row in rows:
                chunk.append(BatchRecord._make(row))
                if len(chunk) == chunk_rows:
                    previous = check_ascending(chunk, previous, relation)
                    yield chunk
                    chunk = []
        except LoaderError:
            raise
        except Exception as exc:
            raise LoaderError(f"cannot read {relation} in {self.target.describe()}: "
                              f"{first_line(exc)}") from None
        if chunk:
            check_ascending(chunk, previous, relation)
            yield chunk

    def fetch(self, query: str) -> list[dict[str, Any]]:
        try:
            return [row.asDict() for row in self._sql(query).collect()]
        except LoaderError:
            raise
        except Exception as exc:
            raise LoaderError(f"cannot read {self.target.describe()}: {first_line(exc)}") from None

    def append_new_rows(self, name: str, columns: Sequence[Column], staged: Path,
                        key: Sequence[str], count_by: str | None = None) -> tuple[int, dict]:
        relation = self.relation(name)
        spark = self._session()
        schema = ", ".join(f"{c.name} string" for c in columns)
        casts = ", ".join(f"cast(s.{c.name} as {TYPES[c.kind]}) as {c.name}" for c in columns)
        try:
            spark.read.csv(str(staged), schema=schema, header=False, quote='"', escape='"',
                           multiLine=True).createOrReplaceTempView("cdp_loader_staged")
            total = spark.table("cdp_loader_staged").count()
            # Computed once and kept: the insert below must add exactly the rows counted.
            added = spark.sql(select_new_rows_sql(relation, "cdp_loader_staged", key, casts)
                              ).localCheckpoint(eager=True)
            by_value = {row[0]: row[1] for row in added.groupBy(
                count_by if count_by else added.columns[0]).count().collect()} \
                if count_by else {None: added.count()}
            added.select(*self._table_columns(relation)).write.insertInto(relation)
        except Exception as exc:
            raise LoaderError(f"cannot append to {relation} in {self.target.describe()}: "
                              f"{first_line(exc)}") from None
        finally:
            spark.catalog.dropTempView("cdp_loader_staged")
        return int(total), {k: v for k, v in by_value.items() if v}

    def _table_columns(self, relation: str) -> list[str]:
        """insertInto matches by position: the table's own column order."""
        return list(self._session().table(relation).columns)

    def close(self) -> None:
        if self._spark is not None:
            self._spark.stop()
        self._spark = None
