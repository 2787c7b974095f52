"""Reaching the warehouse of the dbt target: the one way the loader reads the mart and records.

The target is an output of the project's dbt profile (`profiles/profiles.yml`),
named by `--target` or CDP_DBT_TARGET (default `duckdb`), with the settings
dbt itself would use: the profile is rendered by dbt's own renderer, so
CDP_POSTGRES_HOST/PORT/USER/PASSWORD/DBNAME, CDP_SPARK_DIR and any other
`env_var()` there mean to the loader what they mean to `dbt build`. A DuckDB
file given as `--database` (or CDP_DUCKDB_PATH) needs no rendering.

    target = resolve_target("postgres")
    with connect(target) as warehouse:
        for chunk in warehouse.iter_record_chunks("cdp_batch_records"):
            ...

The mart's schema is `cdp` in production; a development or CI build
(CDP_DBT_SCHEMA set, macros/generate_schema_name.sql) writes
`<CDP_DBT_SCHEMA>_cdp` instead, and `mart_schema` gives the loader the same
name. Credentials are never part of a message: `Target.describe()` names the
host, the user and the database, never the password.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cdp_loader.errors import LoaderError
from cdp_loader.records import DEFAULT_CHUNK_ROWS, BatchRecord, ParquetRecords

ENV_TARGET = "CDP_DBT_TARGET"
ENV_SCHEMA = "CDP_DBT_SCHEMA"
ENV_PROFILES_DIR = "DBT_PROFILES_DIR"
DEFAULT_TARGET = "duckdb"
PROFILE_NAME = "cdp_orders"
PRODUCTION_SCHEMA = "cdp"
ENGINES = ("duckdb", "postgres", "spark")
BUILD_HINT = "run `dbt build --profiles-dir profiles` first"


def mart_schema(env: Mapping[str, str] | None = None) -> str:
    """The schema the mart is built into: `cdp`, or `<CDP_DBT_SCHEMA>_cdp` outside production.

    The same rule as macros/generate_schema_name.sql, so the loader reads and
    records where dbt builds.
    """
    prefix = (os.environ if env is None else env).get(ENV_SCHEMA, "").strip()
    return f"{prefix}_{PRODUCTION_SCHEMA}" if prefix else PRODUCTION_SCHEMA


@dataclass(frozen=True)
class Column:
    """A column of a table the loader appends to, in an engine-neutral type.

    `kind` is one of text, bigint, int, double, timestamp (UTC wall clock).
    """

    name: str
    kind: str


@dataclass(frozen=True)
class Target:
    """One output of the dbt profile: its engine, the mart's schema and how to connect.

    `settings` may hold a password or a token: it is left out of repr and of
    every message.
    """

    name: str
    type: str
    schema: str
    settings: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """Where the warehouse is, for messages: no secret."""
        s = self.settings
        if self.type == "duckdb":
            return str(s.get("path"))
        if self.type == "postgres":
            return (f"postgres target {self.name} ({s.get('user')}@{s.get('host')}:"
                    f"{s.get('port')}/{s.get('database')})")
        if self.type == "spark":
            return f"spark target {self.name} ({s.get('method')})"
        return f"{self.type} target {self.name}"


def duckdb_target(path: Path, env: Mapping[str, str] | None = None) -> Target:
    """A DuckDB warehouse file, as the profile's duckdb output with CDP_DUCKDB_PATH=path."""
    return Target("duckdb", "duckdb", mart_schema(env), {"path": Path(path)})


def default_profiles_dir(project_dir: Path | None = None) -> Path:
    """DBT_PROFILES_DIR, else PROJECT_DIR/profiles, else ./profiles, else the project's own."""
    if os.environ.get(ENV_PROFILES_DIR):
        return Path(os.environ[ENV_PROFILES_DIR])
    candidates = [Path(project_dir) / "profiles"] if project_dir is not None else []
    candidates += [Path("profiles"), Path(__file__).resolve().parents[2] / "profiles"]
    for candidate in candidates:
        if (candidate / "profiles.yml").is_file():
            return candidate
    return candidates[0]


def resolve_target(name: str | None = None, *, database: Path | None = None,
                   profiles_dir: Path | None = None,
                   env: Mapping[str, str] | None = None) -> Target:
    """The warehouse of target NAME (default CDP_DBT_TARGET, else `duckdb`).

    For the duckdb target, DATABASE (--database / CDP_DUCKDB_PATH) is the file
    and the profile is not read. Every other target is read from the profile
    through dbt's renderer; an unknown target, an engine the loader cannot
    reach or a profile that does not render is a one-line LoaderError.
    """
    env = os.environ if env is None else env
    name = name or env.get(ENV_TARGET) or DEFAULT_TARGET
    if name == DEFAULT_TARGET and database is not None:
        return duckdb_target(database, env)
    if name == DEFAULT_TARGET and database is None:
        raise LoaderError("no warehouse: give --database or set CDP_DUCKDB_PATH "
                          "(or choose another dbt target with --target / CDP_DBT_TARGET)")
    kind, settings = _render_profile_output(profiles_dir or default_profiles_dir(), name, env)
    if kind == "duckdb":
        path = Path(database) if database is not None else Path(settings["path"])
        return Target(name, "duckdb", mart_schema(env), {"path": path})
    if kind not in ENGINES:
        raise LoaderError(f"dbt target {name} is a {kind} warehouse; the loader reaches "
                          f"{', '.join(ENGINES)} (for others, unload cdp_batch_records as "
                          "Parquet and use `export --from-parquet`)")
    return Target(name, kind, mart_schema(env), settings)


def _render_profile_output(profiles_dir: Path, name: str,
                           env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """(adapter type, credentials) of output NAME of the profile, rendered as dbt renders it."""
    if not (Path(profiles_dir) / "profiles.yml").is_file():
        raise LoaderError(f"no profiles.yml in {profiles_dir} (set DBT_PROFILES_DIR)")
    try:
        from argparse import Namespace

        from dbt.config.profile import Profile, read_profile
        from dbt.config.renderer import ProfileRenderer
        from dbt.flags import set_from_args
        from dbt_common.context import set_invocation_context
    except ImportError:
        raise LoaderError("dbt-core is not installed beside the loader") from None
    set_from_args(Namespace(), None)
    set_invocation_context(dict(env))
    try:
        raw = read_profile(str(profiles_dir))
        profile = Profile.from_raw_profiles(raw, PROFILE_NAME, ProfileRenderer({}),
                                            target_override=name)
    except Exception as exc:  # dbt's errors: a missing target, a plugin not installed
        message = " ".join(str(exc).split())
        if "Could not find adapter type" in message or "No module named" in message:
            message = (f"the adapter of target {name} is not installed "
                       f"(pip install -e '.[{name}]')")
        raise LoaderError(f"cannot read dbt target {name} from {profiles_dir}/profiles.yml: "
                          f"{message[:300]}") from None
    credentials = profile.credentials
    settings = dict(credentials.to_dict(omit_none=False))
    if credentials.type == "postgres":
        settings["password"] = credentials.password
    return credentials.type, settings


class Warehouse(Protocol):
    """What the loader asks of a warehouse: read the mart, append its own state.

    Relation names are bare (`cdp_batch_records`); the warehouse qualifies
    them with the target's mart schema. Every failure is a one-line LoaderError.
    """

    target: Target

    def relation(self, name: str) -> str:
        """The qualified name of relation NAME of the mart schema."""

    def tables(self) -> set[str]:
        """The names of the relations in the mart schema."""

    def count_records(self, name: str) -> int:
        """How many batch records relation NAME holds (its columns checked)."""

    def iter_record_chunks(self, name: str,
                           chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[list[BatchRecord]]:
        """The batch records of relation NAME in seq order, chunk_rows at a time, streamed."""

    def fetch(self, query: str) -> list[dict[str, Any]]:
        """The rows of a read-only query, as dicts by column name."""

    def append_new_rows(self, name: str, columns: Sequence[Column], staged: Path,
                        key: Sequence[str], count_by: str | None = None) -> tuple[int, dict]:
        """Append the rows of the CSV file STAGED that relation NAME lacks, by KEY.

        STAGED holds COLUMNS in order, every value as text (see `staging`);
        rows already present (same KEY) are not added again, in one
        transaction where the engine has them. Returns (rows staged, rows
        added by the value of COUNT_BY, or under None).
        """

    def close(self) -> None:
        """Release the connection or session."""


@contextmanager
def connect(target: Target | Path | ParquetRecords) -> Iterator[Warehouse]:
    """The warehouse of TARGET (a DuckDB file or Parquet files stand for themselves)."""
    if isinstance(target, ParquetRecords | Path | str):
        from cdp_loader.warehouse_duckdb import DuckDbWarehouse

        source = target if isinstance(target, ParquetRecords) else Path(target)
        warehouse: Warehouse = DuckDbWarehouse(
            duckdb_target(source) if isinstance(source, Path) else None, source)
    elif target.type == "duckdb":
        from cdp_loader.warehouse_duckdb import DuckDbWarehouse

        warehouse = DuckDbWarehouse(target, Path(target.settings["path"]))
    elif target.type == "postgres":
        from cdp_loader.warehouse_postgres import PostgresWarehouse

        warehouse = PostgresWarehouse(target)
    elif target.type == "spark":
        from cdp_loader.warehouse_spark import SparkWarehouse

        warehouse = SparkWarehouse(target)
    else:
        raise LoaderError(f"the loader cannot reach a {target.type} warehouse")
    try:
        yield warehouse
    finally:
        warehouse.close()


def first_line(exc: BaseException) -> str:
    """The first line of a driver's message: names the cause, never a value of a row."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- staging: rows the loader appends, written once as CSV for every engine -------------


def csv_field(value: object) -> str:
    """One CSV field: NULL as nothing, anything else quoted (so '' stays the empty text)."""
    if value is None:
        return ""
    return '"' + str(value).replace('"', '""') + '"'


def write_staged_rows(path: Path, rows: Iterator[Sequence[object]]) -> int:
    """Write ROWS to PATH as CSV (no header, every field quoted), returning how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        for row in rows:
            handle.write(",".join(csv_field(value) for value in row) + "\n")
            count += 1
    return count


def insert_new_rows_sql(relation: str, staged: str, columns: Sequence[Column],
                        key: Sequence[str], types: Mapping[str, str]) -> str:
    """`insert ... select` of the staged rows the relation lacks, each value cast to its type.

    Portable SQL: DuckDB, PostgreSQL and Spark run it as it is.
    """
    names = ", ".join(column.name for column in columns)
    casts = ", ".join(f"cast(s.{c.name} as {types[c.kind]}) as {c.name}" for c in columns)
    return f"insert into {relation} ({names}) {select_new_rows_sql(relation, staged, key, casts)}"


def select_new_rows_sql(relation: str, staged: str, key: Sequence[str], what: str) -> str:
    """`select WHAT from STAGED s` where no row of RELATION has the same KEY."""
    match = " and ".join(f"t.{name} = s.{name}" for name in key)
    return (f"select {what} from {staged} as s "
            f"where not exists (select 1 from {relation} as t where {match})")


WarehouseRef = Target | Path | ParquetRecords


@contextmanager
def opened(where: WarehouseRef | Warehouse) -> Iterator[Warehouse]:
    """WHERE as a warehouse: one already open is used as it is (and left open)."""
    if isinstance(where, Target | Path | ParquetRecords | str):
        with connect(where) as warehouse:
            yield warehouse
    else:
        yield where
