"""The project's rules, in the spirit of dbt Labs' project evaluator.

Read from the manifest of `dbt parse` (no warehouse needed), except the
column check, which compares each built relation's columns with its yml:

- every materialised model has a grain test: `unique` and `not_null` on one
  column (a `not_null` constraint of an enforced contract counts), or
  `unique_combination_of_columns` on its key;
- every model, source table and column has a description, and every column
  a model builds is in its yml;
- a `public` model has an enforced contract;
- the exposure of the loader names every relation the loader's source reads
  (`cdp.<relation>`, or the bare name of a relation of the mart);
- every macro the project dispatches by adapter has a `duckdb__`, a
  `postgres__` and a `spark__` version, and its `default__` fails the
  compilation ("<macro> is not implemented for <adapter>"), so a fourth
  engine never runs SQL written for another.

Each rule is a function that lists what breaks it; the tests below run each
on the project (it must list nothing) and on a manifest broken on purpose
(it must name what was broken).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOADER_DIR = PROJECT_DIR / "loader" / "cdp_loader"
LOADER_EXPOSURE = "exposure.cdp_orders.cdp_loader"
GRAIN_TESTS = {"unique", "not_null", "unique_combination_of_columns"}

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The project as dbt parses it, written to a folder of its own (not target/)."""
    target = tmp_path_factory.mktemp("dbt-parse")
    dbt = Path(sys.executable).parent / "dbt"
    environment = {**os.environ, "CDP_DUCKDB_PATH": str(target / "unused.duckdb"),
                   "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(
        [str(dbt), "parse", "--profiles-dir", "profiles", "--target-path", str(target),
         "--quiet"],
        cwd=PROJECT_DIR, env=environment, check=True,
    )
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def _models(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {
        uid: node for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "cdp_orders"
    }


def _tests_by_model(manifest: Manifest) -> dict[str, list[dict[str, Any]]]:
    tests: dict[str, list[dict[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            tests.setdefault(node["attached_node"], []).append(node)
    return tests


# The rules -------------------------------------------------------------------


def _has_grain_test(model: dict[str, Any], tests: list[dict[str, Any]]) -> bool:
    by_column: dict[str, set[str]] = {}
    for test in tests:
        name = (test.get("test_metadata") or {}).get("name")
        if name == "unique_combination_of_columns":
            return True
        if name in GRAIN_TESTS and test.get("column_name"):
            by_column.setdefault(test["column_name"], set()).add(name)
    if model["config"]["contract"]["enforced"]:
        for column, spec in model["columns"].items():
            if any(c["type"] in ("not_null", "primary_key") for c in spec["constraints"]):
                by_column.setdefault(column, set()).add("not_null")
    return any({"unique", "not_null"} <= names for names in by_column.values())


def models_without_grain_test(manifest: Manifest) -> list[str]:
    """Models with neither unique + not_null on one column nor a combined-key test.

    An ephemeral model has no relation to test: it names, in
    `meta.grain_tested_in`, the model it is built inside whose grain test
    covers its rows (int_order_values_built: cdp_batch_records).
    """
    tests = _tests_by_model(manifest)
    models = _models(manifest)
    by_name = {model["name"]: uid for uid, model in models.items()}
    missing = []
    for uid, model in sorted(models.items()):
        tested_in = model["config"]["meta"].get("grain_tested_in")
        if model["config"]["materialized"] == "ephemeral" and tested_in in by_name:
            host = by_name[tested_in]
            if uid in models[host]["depends_on"]["nodes"] and _has_grain_test(
                models[host], tests.get(host, [])
            ):
                continue
        if not _has_grain_test(model, tests.get(uid, [])):
            missing.append(model["name"])
    return missing


def undocumented(manifest: Manifest) -> list[str]:
    """Models, sources and their columns without a description, as 'name' or 'name.column'."""
    found = []
    nodes = list(_models(manifest).values()) + list(manifest["sources"].values())
    for node in sorted(nodes, key=lambda n: n["unique_id"]):
        name = node["name"] if node["resource_type"] == "model" else (
            f"{node['source_name']}.{node['name']}")
        if not node["description"].strip():
            found.append(name)
        found += [f"{name}.{column}" for column, spec in node["columns"].items()
                  if not spec["description"].strip()]
    return found


def public_models_without_contract(manifest: Manifest) -> list[str]:
    return sorted(
        model["name"] for model in _models(manifest).values()
        if model["access"] == "public" and not model["config"]["contract"]["enforced"]
    )


def mart_relations(manifest: Manifest) -> dict[str, str]:
    """Every relation of schema cdp that dbt builds or reads, by name: its unique_id."""
    relations = {
        node["alias"]: uid for uid, node in _models(manifest).items()
        if node["schema"] == "cdp" and node["config"]["materialized"] != "ephemeral"
    }
    relations.update({
        source["identifier"]: uid for uid, source in manifest["sources"].items()
        if source["schema"] == "cdp"
    })
    return relations


def loader_relations(manifest: Manifest, source_dir: Path = LOADER_DIR) -> dict[str, set[str]]:
    """The relations the loader's source names, each with the files that name it.

    `cdp.cdp_<name>` anywhere (SQL in strings, docstrings), and a quoted
    'cdp_<name>' that is the name of a relation of the mart (the loader
    composes `cdp.` and the name).
    """
    known = mart_relations(manifest)
    named: dict[str, set[str]] = {}
    for path in sorted(source_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        names = set(re.findall(r"\bcdp\.(cdp_\w+)", text))
        names |= {name for name in re.findall(r"[\"'](cdp_\w+)[\"']", text) if name in known}
        for name in names:
            named.setdefault(name, set()).add(str(path.relative_to(source_dir)))
    return named


def loader_relations_not_in_exposure(manifest: Manifest,
                                     source_dir: Path = LOADER_DIR) -> list[str]:
    """Relations the loader reads that its exposure does not list (or that do not exist)."""
    exposed = set(manifest["exposures"][LOADER_EXPOSURE]["depends_on"]["nodes"])
    known = mart_relations(manifest)
    return sorted(
        f"cdp.{name} ({', '.join(sorted(files))})"
        for name, files in loader_relations(manifest, source_dir).items()
        if known.get(name) not in exposed
    )


ENGINES = ("duckdb", "postgres", "spark")


def dispatched_macros_not_per_engine(manifest: Manifest) -> list[str]:
    """Each macro dispatched in the project's namespace that lacks an engine's version,
    or whose default__ does not raise a compiler error naming the macro."""
    macros = {uid: macro for uid, macro in manifest["macros"].items()
              if macro["package_name"] == "cdp_orders"}
    dispatched = sorted({name for macro in macros.values() for name in re.findall(
        r"adapter\.dispatch\(\s*'(\w+)'\s*,\s*'cdp_orders'\s*\)", macro["macro_sql"])})
    broken = []
    for name in dispatched:
        broken += [f"{engine}__{name} is missing" for engine in ENGINES
                   if f"macro.cdp_orders.{engine}__{name}" not in macros]
        default = macros.get(f"macro.cdp_orders.default__{name}")
        raises = default is not None and re.search(
            r"exceptions\.raise_compiler_error\(\s*'" + name + r" is not implemented for ' "
            r"~ target\.type\s*\)", default["macro_sql"])
        if not raises:
            broken.append(f"default__{name} does not raise '{name} is not implemented for'")
    return broken


# The project keeps them -------------------------------------------------------


def test_every_model_has_a_grain_test(manifest: Manifest) -> None:
    assert models_without_grain_test(manifest) == []


def test_every_model_source_and_column_is_described(manifest: Manifest) -> None:
    assert undocumented(manifest) == []


def test_every_public_model_has_an_enforced_contract(manifest: Manifest) -> None:
    assert public_models_without_contract(manifest) == []


def test_the_relations_users_rely_on_are_public(manifest: Manifest) -> None:
    access = {model["name"]: model["access"] for model in _models(manifest).values()}
    # contracts/interfaces.md: the shipped records, items, segments, consumers,
    # deletes, the quarantine and the batch records; and what analysts query.
    for name in ("cdp_orders", "cdp_order_items", "cdp_flight_segments", "cdp_order_consumers",
                 "cdp_order_deletes", "cdp_order_quarantine", "cdp_batch_records",
                 "cdp_order_reconciliation", "cdp_build_history", "cdp_quarantine_history"):
        assert access[name] == "public", name
    assert {access[name] for name in access if not name.startswith("cdp_")} <= {
        "protected", "private"}


def test_the_loader_exposure_lists_every_relation_the_loader_reads(manifest: Manifest) -> None:
    named = loader_relations(manifest)
    # The scan finds what the loader is known to read, so it is looking.
    assert {"cdp_batch_records", "cdp_batch_records_delta", "cdp_delta_summary",
            "cdp_order_quarantine", "cdp_order_reconciliation", "cdp_orders",
            "cdp_shipped_orders"} <= set(named)
    assert loader_relations_not_in_exposure(manifest) == []


def test_every_dispatched_macro_has_each_engine_and_a_default_that_fails(
        manifest: Manifest) -> None:
    dispatched = [uid for uid, macro in manifest["macros"].items()
                  if "adapter.dispatch(" in macro["macro_sql"]
                  and macro["package_name"] == "cdp_orders"]
    assert len(dispatched) >= 20  # the check is looking at the project's macros
    assert dispatched_macros_not_per_engine(manifest) == []


def test_a_dispatched_macro_without_an_engine_or_a_failing_default_is_named(
        manifest: Manifest) -> None:
    broken = copy.deepcopy(manifest)
    del broken["macros"]["macro.cdp_orders.spark__json_string"]
    broken["macros"]["macro.cdp_orders.default__title_case"]["macro_sql"] = (
        "{% macro default__title_case(expression) %}initcap({{ expression }}){% endmacro %}")
    assert dispatched_macros_not_per_engine(broken) == [
        "spark__json_string is missing",
        "default__title_case does not raise 'title_case is not implemented for'",
    ]


def test_every_built_column_is_in_the_yml(manifest: Manifest, built_warehouse: Path) -> None:
    """The yml names every column a model builds or a source holds (a `select *`
    cannot add one unseen)."""
    relations = [
        (model["name"], model["schema"], model["alias"], model["columns"])
        for model in _models(manifest).values()
        if model["config"]["materialized"] != "ephemeral"
    ] + [
        (f"{source['source_name']}.{source['name']}", source["schema"], source["identifier"],
         source["columns"])
        for source in manifest["sources"].values()
    ]
    undeclared = []
    with duckdb.connect(str(built_warehouse), read_only=True) as connection:
        for name, schema, table, declared in relations:
            built = [row[0] for row in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()]
            assert built, f"{name} is not in the warehouse"
            undeclared += [f"{name}.{column}" for column in built if column not in declared]
    assert undeclared == []


# The rules catch what they are about ------------------------------------------


def _model_uid(manifest: Manifest, name: str) -> str:
    return next(uid for uid, node in _models(manifest).items() if node["name"] == name)


def _without_tests(manifest: Manifest, model: str, test_name: str) -> Manifest:
    """A copy of the manifest without the tests called test_name of the model."""
    broken = copy.deepcopy(manifest)
    uid = _model_uid(broken, model)
    broken["nodes"] = {
        key: node for key, node in broken["nodes"].items()
        if not (node["resource_type"] == "test" and node.get("attached_node") == uid
                and node["test_metadata"]["name"] == test_name)
    }
    return broken


def test_a_model_without_its_grain_test_is_named(manifest: Manifest) -> None:
    broken = _without_tests(manifest, "cdp_order_consumers", "unique_combination_of_columns")
    assert models_without_grain_test(broken) == ["cdp_order_consumers"]


def test_unique_without_not_null_is_no_grain_test(manifest: Manifest) -> None:
    broken = _without_tests(manifest, "cdp_order_exclusions", "not_null")
    assert models_without_grain_test(broken) == ["cdp_order_exclusions"]


def test_an_ephemeral_model_is_covered_only_by_a_tested_host(manifest: Manifest) -> None:
    broken = _without_tests(manifest, "cdp_batch_records", "unique")
    assert models_without_grain_test(broken) == ["cdp_batch_records", "int_order_values_built"]


def test_a_column_without_a_description_is_named(manifest: Manifest) -> None:
    broken = copy.deepcopy(manifest)
    broken["nodes"][_model_uid(broken, "int_order_items_built")]["columns"]["vendor"][
        "description"] = " "
    assert undocumented(broken) == ["int_order_items_built.vendor"]


def test_a_public_model_without_a_contract_is_named(manifest: Manifest) -> None:
    broken = copy.deepcopy(manifest)
    broken["nodes"][_model_uid(broken, "cdp_orders")]["config"]["contract"]["enforced"] = False
    assert public_models_without_contract(broken) == ["cdp_orders"]


def test_a_relation_the_exposure_does_not_list_is_named(manifest: Manifest,
                                                        tmp_path: Path) -> None:
    (tmp_path / "reader.py").write_text(
        'QUERY = "select count(*) from cdp.cdp_order_exclusions"\n'
        'TABLE = "cdp_order_items"\n'
        '"""A warehouse called cdp.duckdb is no relation."""\n',
        encoding="utf-8",
    )
    assert loader_relations_not_in_exposure(manifest, tmp_path) == [
        "cdp.cdp_order_exclusions (reader.py)", "cdp.cdp_order_items (reader.py)"]
