# The two commands of the README, and the steps they are made of.
# Everything runs from a virtual environment that `make` builds from
# pyproject.toml, so a fresh clone needs nothing but python3.

VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ENGINES_INSTALLED := $(VENV)/.installed-engines
DATA := data
ORDERS ?= 20000
WAREHOUSE ?= $(abspath $(DATA)/warehouse.duckdb)

.PHONY: demo test lint dbt-test python-test engine-test postgres-server chromium bench bench-smoke clean

## demo: sample warehouse -> dbt build -> export -> validate -> ship to the local sandbox -> report
demo: $(INSTALLED)
	$(BIN)/cdp-loader sample-warehouse --orders $(ORDERS) --database $(WAREHOUSE)
	$(BIN)/cdp-loader run --database $(WAREHOUSE) --out $(DATA)/batches --sandbox

## test: every check CI runs: ruff, sqlfluff, the dbt build and its tests, pytest,
## and the sample on PostgreSQL and Spark compared line for line with DuckDB
test: lint dbt-test python-test engine-test bench-smoke

lint: $(INSTALLED)
	mkdir -p $(DATA)
	$(BIN)/ruff check loader tests
	CDP_DUCKDB_PATH=$(abspath $(DATA)/lint.duckdb) $(BIN)/sqlfluff lint models tests/dbt

dbt-test: $(INSTALLED)
	mkdir -p $(DATA)
	$(BIN)/cdp-loader sample-warehouse --orders 5000 --database $(abspath $(DATA)/ci.duckdb)
	CDP_DUCKDB_PATH=$(abspath $(DATA)/ci.duckdb) $(BIN)/dbt build --profiles-dir profiles
	CDP_DUCKDB_PATH=$(abspath $(DATA)/ci.duckdb) $(BIN)/dbt docs generate --profiles-dir profiles --quiet

python-test: $(INSTALLED) chromium
	$(BIN)/pytest

## engine-test: the sample built on PostgreSQL (a throwaway server from the
## machine's postgresql package) and on Spark (PySpark, Java 17), each
## compared line for line with DuckDB; plain `pytest` skips these
engine-test: $(ENGINES_INSTALLED) postgres-server
	CDP_ENGINE_TESTS=1 $(BIN)/pytest -q tests/python/test_engines_postgres.py tests/python/test_engines_spark.py

$(ENGINES_INSTALLED): pyproject.toml $(INSTALLED)
	$(BIN)/pip install --quiet -e '.[dev,postgres,spark]'
	touch $(ENGINES_INSTALLED)

## postgres-server: the PostgreSQL binaries engine-test starts a throwaway server with
postgres-server:
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	fi

## chromium: the headless browser the report test renders `cdp-loader report` in
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	fi

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.2
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

## bench: every stage of a backfill at ORDERS orders, timed and measured (bench/RESULTS.md);
## ORDERS=100000,1000000 adds the scaling between sizes
bench: $(INSTALLED)
	$(BIN)/python bench/run.py --orders $(ORDERS)

## bench-smoke: the same suite at a small size, so that it cannot rot (CI)
bench-smoke: $(INSTALLED)
	$(BIN)/ruff check bench
	rm -rf $(DATA)/bench
	$(BIN)/python bench/run.py --orders 2000 --work $(abspath $(DATA)/bench) --keep
	$(BIN)/python bench/replicate_records.py --database $(DATA)/bench/2000/warehouse.duckdb \
		--copies 2 --out $(DATA)/bench/replicated.duckdb
	$(BIN)/python bench/run.py --orders 4000 --warehouse $(DATA)/bench/replicated.duckdb \
		--work $(abspath $(DATA)/bench) --no-ship --no-compare

clean:
	rm -rf $(DATA) target logs
