"""Real warehouses other than DuckDB for the engine tests: a throwaway
PostgreSQL server on loopback, the sample's raw tables copied into it, and
`dbt build` against a target with its own target and log directories (other
runs share the project's).

Run as a script to start a server by hand; it prints the CDP_POSTGRES_* settings and
keeps the server up until interrupted:

    .venv/bin/python tests/python/engine_helpers.py postgres
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cdp_loader.sample_warehouse import RAW_TABLES, generate

PROJECT = Path(__file__).resolve().parents[2]
RAW_DDL = PROJECT / "loader" / "cdp_loader" / "raw_warehouse.sql"
# initdb refuses to run as root; the server then runs as this account.
UNPRIVILEGED_USER = "nobody"


def postgres_bin_dir() -> Path | None:
    """The newest Debian PostgreSQL server binaries, None when not installed."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name),
    )
    return versions[-1].parent if versions else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; `stop()` ends it and removes its data directory."""

    process: subprocess.Popen[bytes]
    root: Path
    port: int
    user: str = "cdp"
    password: str = "cdp-test-password"
    dbname: str = "cdp"
    host: str = "127.0.0.1"

    def env(self) -> dict[str, str]:
        """The settings profiles/profiles.yml reads for the postgres target."""
        return {
            "CDP_POSTGRES_HOST": self.host,
            "CDP_POSTGRES_PORT": str(self.port),
            "CDP_POSTGRES_USER": self.user,
            "CDP_POSTGRES_PASSWORD": self.password,
            "CDP_POSTGRES_DBNAME": self.dbname,
        }

    def connect(self, dbname: str | None = None):  # psycopg2 ships no type hints
        """A psycopg2 connection in autocommit mode (to the project's database by default)."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname or self.dbname,
        )
        connection.autocommit = True
        return connection

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _as_unprivileged() -> tuple[dict[str, object], int, int]:
    """Popen arguments that drop root, and the uid/gid the files must belong to."""
    if os.geteuid() != 0:
        return {}, os.getuid(), os.getgid()
    account = pwd.getpwnam(UNPRIVILEGED_USER)
    return {"user": account.pw_uid, "group": account.pw_gid}, account.pw_uid, account.pw_gid


def start_postgres(bin_dir: Path) -> PostgresServer:
    """initdb into a fresh temporary directory with the C locale (byte-order
    text comparison everywhere), start the server on a free loopback port and
    wait until it accepts connections."""
    drop_root, uid, gid = _as_unprivileged()
    root = Path(tempfile.mkdtemp(prefix="cdp-postgres-"))
    os.chown(root, uid, gid)
    data_dir = root / "data"
    password_file = root / "password"
    server = PostgresServer(process=None, root=root, port=free_port())  # type: ignore[arg-type]
    password_file.write_text(server.password + "\n")
    os.chown(password_file, uid, gid)
    subprocess.run(
        [
            str(bin_dir / "initdb"),
            "--pgdata", str(data_dir),
            "--username", server.user,
            "--pwfile", str(password_file),
            "--auth", "scram-sha-256",
            "--locale", "C",
            "--encoding", "UTF8",
        ],
        check=True,
        capture_output=True,
        **drop_root,  # type: ignore[arg-type]
    )
    server.process = subprocess.Popen(
        [
            str(bin_dir / "postgres"),
            "-D", str(data_dir),
            "-h", server.host,
            "-p", str(server.port),
            "-k", str(root),
            # A throwaway server: durability is not worth the fsyncs.
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "server.log", "wb"),  # noqa: SIM115 - the child owns it
        **drop_root,  # type: ignore[arg-type]
    )
    _wait_until_accepting(server, bin_dir)
    _create_database(server)
    return server


def _wait_until_accepting(server: PostgresServer, bin_dir: Path) -> None:
    for _ in range(300):
        if server.process.poll() is not None:
            log = (server.root / "server.log").read_text(errors="replace")
            raise RuntimeError(f"postgres exited: {log[-2000:]}")
        ready = subprocess.run(
            [str(bin_dir / "pg_isready"), "-h", server.host, "-p", str(server.port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("postgres did not accept connections within 30 s")


def _create_database(server: PostgresServer) -> None:
    import psycopg2

    connection = psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname="postgres",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            f"create database {server.dbname} template template0"
            " encoding 'UTF8' lc_collate 'C' lc_ctype 'C'"
        )
    connection.close()
    with server.connect() as connection, connection.cursor() as cursor:
        # SHA-1 for the record refs (UUID v5) comes from pgcrypto.
        cursor.execute("create extension if not exists pgcrypto")


def raw_rows(duckdb_path: Path, table: str) -> tuple[list[str], list[tuple]]:
    """The column names and rows of one raw table of a DuckDB warehouse."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        result = connection.execute(f"select * from raw.{table}")
        columns = [column[0] for column in result.description]
        return columns, result.fetchall()


def load_raw_into_postgres(duckdb_path: Path, server: PostgresServer) -> None:
    """Create the raw tables from raw_warehouse.sql (its types are valid
    PostgreSQL too), or empty them when they exist (as a replication job reloads a
    table; dropping them would drop the staging views on them), and copy every row
    of the DuckDB warehouse into them."""
    from psycopg2.extras import execute_values

    connection = server.connect()
    with connection.cursor() as cursor:
        cursor.execute("select count(*) from information_schema.tables "
                       "where table_schema = 'raw'")
        if cursor.fetchone()[0]:
            cursor.execute(f"truncate {', '.join(f'raw.{table}' for table in RAW_TABLES)}")
        else:
            cursor.execute(RAW_DDL.read_text())
        for table in RAW_TABLES:
            columns, rows = raw_rows(duckdb_path, table)
            if rows:
                execute_values(
                    cursor,
                    f"insert into raw.{table} ({', '.join(columns)}) values %s",
                    rows,
                    page_size=1000,
                )
    connection.close()


SAMPLE_ORDERS = 60
SAMPLE_SEED = 11


def require_engine_tests(missing_prerequisite: str | None) -> None:
    """Skip unless CDP_ENGINE_TESTS=1 (`make engine-test`); a missing prerequisite there
    is a failure, not a skip."""
    if os.environ.get("CDP_ENGINE_TESTS") != "1":
        pytest.skip("other engines are tested by `make engine-test` (CDP_ENGINE_TESTS=1)")
    if missing_prerequisite:
        pytest.fail(f"missing {missing_prerequisite}")


def engine_sample(tmp_path_factory: pytest.TempPathFactory, engine: str,
                  missing_prerequisite: str | None) -> tuple[Path, Path, Path]:
    """The work folder, raw sample and DuckDB reference of an engine's tests.

    Skips unless CDP_ENGINE_TESTS=1 (`make engine-test`); a missing
    prerequisite there is a failure, not a skip.
    """
    require_engine_tests(missing_prerequisite)
    work = tmp_path_factory.mktemp(f"engines-{engine}")
    raw, reference = sample_and_duckdb_reference(work, SAMPLE_ORDERS, SAMPLE_SEED)
    return work, raw, reference


def sample_and_duckdb_reference(work: Path, orders: int, seed: int) -> tuple[Path, Path]:
    """A sample's raw tables, and a copy of them built and tested by dbt on DuckDB.

    Returns (the raw-only DuckDB file to load into another engine, the built one).
    """
    raw = work / "sample.duckdb"
    generate(raw, orders, seed)
    reference = work / "reference.duckdb"
    shutil.copyfile(raw, reference)
    build = dbt_build("duckdb", work / "duckdb", {"CDP_DUCKDB_PATH": str(reference)})
    assert build.returncode == 0, build.stdout[-3000:]
    return raw, reference


def dbt_build(
    target: str,
    work_dir: Path,
    env: dict[str, str],
    extra_args: tuple[str, ...] = (),
    cwd: Path = PROJECT,
) -> subprocess.CompletedProcess[str]:
    """`dbt build --target TARGET` on the project, with target/ and logs/ of
    its own under work_dir (and Spark's derby.log in cwd)."""
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [
            str(dbt), "build",
            "--project-dir", str(PROJECT),
            "--profiles-dir", str(PROJECT / "profiles"),
            "--target", target,
            "--target-path", str(work_dir / "target"),
            "--log-path", str(work_dir / "logs"),
            *extra_args,
        ],
        cwd=cwd,
        env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )


def duckdb_batch_records(duckdb_path: Path) -> list[str]:
    """cdp.cdp_batch_records.record of a built DuckDB warehouse, in seq order."""
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        rows = connection.execute("select record from cdp.cdp_batch_records order by seq")
        return [row[0] for row in rows.fetchall()]


def postgres_batch_records(server: PostgresServer) -> list[str]:
    connection = server.connect()
    with connection.cursor() as cursor:
        cursor.execute("select record from cdp.cdp_batch_records order by seq")
        records = [row[0] for row in cursor.fetchall()]
    connection.close()
    return records


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A server for the length of a with-block or a pytest fixture."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    server = start_postgres(bin_dir)
    try:
        yield server
    finally:
        server.stop()


def _main() -> None:
    if sys.argv[1:] != ["postgres"]:
        raise SystemExit("usage: engine_helpers.py postgres")
    with running_postgres() as server:
        for name, value in server.env().items():
            print(f"export {name}={value}")
        print("# Ctrl-C stops the server and removes its data.", flush=True)
        with suppress(KeyboardInterrupt):
            server.process.wait()


if __name__ == "__main__":
    _main()


# --- Spark (PySpark in local mode, as dbt-spark's session method runs it) ---

# The settings of the spark target in profiles/profiles.yml that loading the
# raw tables must share, so that dbt finds them in the same catalog.
def spark_conf(spark_dir: Path) -> dict[str, str]:
    return {
        "spark.sql.warehouse.dir": f"{spark_dir}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false",
    }


_LOAD_SPARK = """
import json, sys
from pyspark.sql import SparkSession
conf, parquet_dir, tables = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
builder = SparkSession.builder.master("local[2]").enableHiveSupport()
for key, value in conf.items():
    builder = builder.config(key, value)
spark = builder.getOrCreate()
spark.sql("create database if not exists raw")
for table in tables:
    spark.read.parquet(f"{parquet_dir}/{table}.parquet").write.mode("overwrite").saveAsTable(f"raw.{table}")
spark.stop()
"""


def load_raw_into_spark(duckdb_path: Path, spark_dir: Path) -> None:
    """Write every raw table as Parquet with DuckDB and save it as a table of
    database `raw` in the Spark catalog under spark_dir (own JVM, then gone)."""
    parquet_dir = spark_dir / "raw-parquet"
    parquet_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(duckdb_path), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for table in RAW_TABLES:
            connection.execute(
                f"copy raw.{table} to '{parquet_dir / table}.parquet' (format parquet)"
            )
    subprocess.run(
        [sys.executable, "-c", _LOAD_SPARK, json.dumps(spark_conf(spark_dir)),
         str(parquet_dir), ",".join(RAW_TABLES)],
        cwd=spark_dir,
        check=True,
        capture_output=True,
    )


def spark_export_parquet(spark_dir: Path, parquet_out: Path) -> list[str]:
    """cdp.cdp_batch_records of the Spark catalog written to Parquet by Spark
    (as a cluster unloads it to object storage); returns its lines in seq
    order, read back with DuckDB."""
    script = (
        "import json, sys\n"
        "from pyspark.sql import SparkSession\n"
        "builder = SparkSession.builder.master('local[1]').enableHiveSupport()\n"
        "for key, value in json.loads(sys.argv[1]).items():\n"
        "    builder = builder.config(key, value)\n"
        "spark = builder.getOrCreate()\n"
        "spark.table('cdp.cdp_batch_records').write.mode('overwrite').parquet(sys.argv[2])\n"
        "spark.stop()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, json.dumps(spark_conf(spark_dir)), str(parquet_out)],
        cwd=spark_dir, check=True, capture_output=True,
    )
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"select record from read_parquet('{parquet_out}/*.parquet') order by seq"
        )
        return [row[0] for row in rows.fetchall()]
