# The two commands of the README, and the steps they are made of.
# Everything runs from a virtual environment that `make` builds from
# pyproject.toml, so a fresh clone needs nothing but python3.

VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATA := data
ORDERS ?= 20000
export CDP_DUCKDB_PATH ?= $(abspath $(DATA)/warehouse.duckdb)

.PHONY: demo test lint dbt-test python-test bench clean

## demo: sample warehouse -> dbt build -> export -> validate -> ship to the local sandbox -> report
demo: $(INSTALLED)
	$(BIN)/cdp-loader sample-warehouse --orders $(ORDERS) --database $(CDP_DUCKDB_PATH)
	$(BIN)/cdp-loader run --out $(DATA)/batches --sandbox

## test: every check CI runs: ruff, sqlfluff, the dbt build and its tests, pytest
test: lint dbt-test python-test

lint: $(INSTALLED)
	mkdir -p $(DATA)
	$(BIN)/ruff check loader tests
	CDP_DUCKDB_PATH=$(abspath $(DATA)/lint.duckdb) $(BIN)/sqlfluff lint models tests/dbt

dbt-test: $(INSTALLED)
	mkdir -p $(DATA)
	$(BIN)/cdp-loader sample-warehouse --orders 5000 --database $(abspath $(DATA)/ci.duckdb)
	CDP_DUCKDB_PATH=$(abspath $(DATA)/ci.duckdb) $(BIN)/dbt build --profiles-dir profiles
	CDP_DUCKDB_PATH=$(abspath $(DATA)/ci.duckdb) $(BIN)/dbt docs generate --profiles-dir profiles --quiet

python-test: $(INSTALLED)
	$(BIN)/pytest

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.2
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

clean:
	rm -rf $(DATA) target logs
