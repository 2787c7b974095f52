"""The sample-warehouse generator: determinism, volumes, the showcase, every quirk, the CLI."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cdp_loader.commands.sample_warehouse import sample_warehouse
from cdp_loader.records import attach_warehouse
from cdp_loader.sample_warehouse import (
    BULK_FIRST_ORDER_ID,
    RAW_TABLES,
    SHOWCASE_CASES,
    generate,
)

ORDERS = 2000
OUTCOMES = ("shipped", "deleted", "excluded")
REASONS = (
    "invalid_ordered_at", "missing_reference", "reference_collision", "unmapped_status",
    "missing_point_of_sale", "invalid_currency", "missing_price", "no_items",
    "invalid_item", "no_contact",
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    generate(path, ORDERS, seed=42)
    return path


@pytest.fixture(scope="module")
def con(warehouse: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def _fingerprint(path: Path) -> dict[str, str]:
    """An order-independent digest of every raw table's content."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(
                f"select md5(string_agg(t::varchar, '|' order by t::varchar)) from raw.{table} t"
            ).fetchone()[0]
            for table in RAW_TABLES
        }


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(f"select count(*) from ({sql})").fetchone()[0]


# --- determinism and replacement -------------------------------------------------


def test_same_seed_and_size_give_identical_tables(tmp_path: Path, warehouse: Path) -> None:
    again = tmp_path / "again.duckdb"
    generate(again, ORDERS, seed=42)
    assert _fingerprint(again) == _fingerprint(warehouse)


SHOWCASE_ROWS = {
    "customers": "customer_id like 'S%'",
    "customer_identifiers": "customer_id like 'S%'",
    "orders": f"order_id < {BULK_FIRST_ORDER_ID}",
    "order_lines": f"order_id < {BULK_FIRST_ORDER_ID}",
    "flight_segments": f"order_line_id < {BULK_FIRST_ORDER_ID * 100}",
    "order_passengers": f"order_id < {BULK_FIRST_ORDER_ID}",
    "order_attributes": f"order_id < {BULK_FIRST_ORDER_ID}",
    "order_line_attributes": f"order_line_id < {BULK_FIRST_ORDER_ID * 100}",
}


def _showcase_fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(
                f"select count(*), md5(string_agg(t::varchar, '|' order by t::varchar)) "
                f"from raw.{table} t where {condition}").fetchone()
            for table, condition in SHOWCASE_ROWS.items()
        }


def test_another_seed_gives_other_bulk_but_the_same_showcase(
    tmp_path: Path, warehouse: Path
) -> None:
    other = tmp_path / "other.duckdb"
    generate(other, ORDERS, seed=7)
    first, second = _fingerprint(warehouse), _fingerprint(other)
    assert all(first[table] != second[table] for table in RAW_TABLES)
    showcase = _showcase_fingerprint(warehouse)
    assert showcase == _showcase_fingerprint(other)
    assert showcase == _showcase_fingerprint(_only_showcase(tmp_path))
    assert all(count > 0 for count, _ in showcase.values())


def _only_showcase(tmp_path: Path) -> Path:
    path = tmp_path / "showcase.duckdb"
    generate(path, 0)
    return path


def test_rerun_replaces_raw_tables_and_leaves_other_schemas(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    big = generate(path, 300, seed=1)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema cdp; create table cdp.keep as select 1 as x")
    small = generate(path, 0, seed=1)
    assert small["orders"] < big["orders"]
    with duckdb.connect(str(path)) as connection:
        assert connection.execute("select count(*) from raw.orders").fetchone()[0] == \
            small["orders"]
        assert connection.execute("select min(order_id) >= 1, max(order_id) < 1000 "
                                  "from raw.orders").fetchone() == (True, True)
        assert connection.execute("select x from cdp.keep").fetchall() == [(1,)]


def test_a_warehouse_file_named_raw_holds_schema_raw(tmp_path: Path) -> None:
    # Opened as raw.duckdb, DuckDB would name the catalog `raw` too, and
    # `raw.orders` would be ambiguous.
    path = tmp_path / "raw.duckdb"
    counts = generate(path, 20, seed=3)
    with duckdb.connect(str(path)) as connection:
        assert connection.execute("select count(*) from raw.raw.orders").fetchone() == \
            (counts["orders"],)
    assert counts["orders"] > len(SHOWCASE_CASES)


def test_zero_orders_holds_only_the_showcase(tmp_path: Path) -> None:
    counts = generate(tmp_path / "w.duckdb", 0)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        assert connection.execute("select count(distinct order_id) from raw.orders").fetchone() \
            == (len(SHOWCASE_CASES),)
    assert set(counts) == set(RAW_TABLES)


def test_negative_orders_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="orders"):
        generate(tmp_path / "w.duckdb", -1)


# --- volumes ---------------------------------------------------------------------


def test_bulk_volumes_follow_the_ratios(con: duckdb.DuckDBPyConnection) -> None:
    bulk = f"order_id >= {BULK_FIRST_ORDER_ID}"
    orders = _count(con, f"select distinct order_id from raw.orders where {bulk}")
    lines = _count(con, f"select distinct order_line_id from raw.order_lines where {bulk}")
    flight_lines = _count(con, f"select distinct order_line_id from raw.order_lines "
                               f"where {bulk} and lower(trim(product_type)) = 'flight'")
    segments = _count(con, f"select * from raw.flight_segments where order_line_id >= "
                           f"{BULK_FIRST_ORDER_ID * 100}")
    passengers = _count(con, f"select * from raw.order_passengers where {bulk}")
    assert orders == ORDERS
    assert 2.3 < lines / orders < 2.7
    assert 1.45 < segments / flight_lines < 1.75
    assert 1.2 < passengers / orders < 1.4
    per_order = con.execute(
        f"select min(n), max(n) from (select o.order_id, count(a.order_id) as n "
        f"from (select distinct order_id from raw.orders where {bulk}) o "
        f"left join raw.order_attributes a using (order_id) group by o.order_id "
        f"having count(*) <= 10)").fetchone()
    assert per_order == (0, 6)


def test_bulk_shares_of_versions_deletes_tests_refunds(con: duckdb.DuckDBPyConnection) -> None:
    bulk = f"order_id >= {BULK_FIRST_ORDER_ID}"
    versioned = _count(con, f"select order_id from raw.orders where {bulk} "
                            f"group by order_id having count(*) > 1")
    deleted = _count(con, f"select * from raw.orders where {bulk} and deleted_at is not null")
    tests = _count(con, f"select distinct order_id from raw.orders where {bulk} and is_test")
    refunds = _count(con, f"select * from raw.orders where {bulk} and total_amount < 0")
    assert 0.02 * ORDERS < versioned < 0.09 * ORDERS
    assert 0.003 * ORDERS < deleted < 0.02 * ORDERS
    assert 1 <= tests < 0.015 * ORDERS
    assert refunds > 0.02 * ORDERS


# --- the showcase ----------------------------------------------------------------


def test_showcase_cases_are_well_formed() -> None:
    names = [case.name for case in SHOWCASE_CASES]
    ids = [case.order_id for case in SHOWCASE_CASES]
    assert len(set(names)) == len(names)
    assert ids == list(range(1, len(ids) + 1))
    assert max(ids) < BULK_FIRST_ORDER_ID
    for case in SHOWCASE_CASES:
        kind, _, reason = case.expected.partition(":")
        assert case.expected in OUTCOMES or (kind == "quarantined" and reason in REASONS)
        assert case.description
    expected = {case.expected for case in SHOWCASE_CASES}
    assert expected >= {*OUTCOMES, *(f"quarantined:{reason}" for reason in REASONS)}


def test_every_showcase_order_is_present(con: duckdb.DuckDBPyConnection) -> None:
    present = {row[0] for row in con.execute(
        f"select distinct order_id from raw.orders where order_id < {BULK_FIRST_ORDER_ID}"
    ).fetchall()}
    assert present == {case.order_id for case in SHOWCASE_CASES}


def _showcase(name: str) -> int:
    return next(case.order_id for case in SHOWCASE_CASES if case.name == name)


def test_showcase_collision_pairs_are_exactly_as_described(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = dict(con.execute(
        "select order_id, ordered_at from raw.orders where order_id in (?, ?, ?, ?)",
        [_showcase("collision_exactly_24h_a"), _showcase("collision_exactly_24h_b"),
         _showcase("apart_24h_plus_1s_a"), _showcase("apart_24h_plus_1s_b")]).fetchall())
    gap = con.execute(
        "select ?::timestamptz - ?::timestamptz, ?::timestamptz - ?::timestamptz",
        [rows[_showcase("collision_exactly_24h_b")], rows[_showcase("collision_exactly_24h_a")],
         rows[_showcase("apart_24h_plus_1s_b")], rows[_showcase("apart_24h_plus_1s_a")]],
    ).fetchone()
    assert [str(g) for g in gap] == ["1 day, 0:00:00", "1 day, 0:00:01"]


def test_showcase_version_tie_has_two_rows_with_one_updated_at(
    con: duckdb.DuckDBPyConnection,
) -> None:
    order_id = _showcase("version_tie_null_wins")
    rows = con.execute("select updated_at, status from raw.orders where order_id = ? "
                       "order by status nulls last", [order_id]).fetchall()
    assert len(rows) == 2 and rows[0][0] == rows[1][0]
    assert [status for _, status in rows] == ["confirmed", None]


# --- every quirk of raw_warehouse.md appears ---------------------------------------

QUIRKS = {
    "padded reference": "from raw.orders where booking_reference <> trim(booking_reference)",
    "lower-case reference": "from raw.orders where booking_reference <> upper(booking_reference)",
    "empty reference": "from raw.orders where trim(booking_reference) = ''",
    "reused reference": """from (select upper(trim(booking_reference)) r from raw.orders
        where trim(booking_reference) <> '' group by r having count(distinct order_id) > 1)""",
    "ordered_at Z": "from raw.orders where ordered_at like '%Z' and ordered_at not like '%.%'",
    "ordered_at +01:00": "from raw.orders where ordered_at like '%+01:00'",
    "ordered_at +0100": "from raw.orders where ordered_at like '%+0100'",
    "ordered_at +01": "from raw.orders where regexp_matches(ordered_at, ':\\d\\d[+-]\\d\\d$')",
    "ordered_at space": "from raw.orders where regexp_matches(ordered_at, '^\\S+ \\d\\d:')",
    "ordered_at 1-digit fraction":
        "from raw.orders where regexp_matches(ordered_at, '\\.\\d[Z+-]')",
    "ordered_at 6-digit fraction":
        "from raw.orders where regexp_matches(ordered_at, '\\.\\d{6}[Z+-]')",
    "ordered_at no seconds":
        "from raw.orders where regexp_matches(ordered_at, 'T\\d\\d:\\d\\d[Z+-]')",
    "ordered_at no offset":
        "from raw.orders where regexp_matches(ordered_at, '^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+$')",
    "ordered_at date only":
        "from raw.orders where regexp_matches(ordered_at, '^\\d{4}-\\d\\d-\\d\\d$')",
    "ordered_at lower z": "from raw.orders where ordered_at like '%z'",
    "ordered_at basic format": "from raw.orders where regexp_matches(ordered_at, '^\\d{8}T')",
    "status synonym padded": "from raw.orders where status <> trim(status) and trim(status) <> ''",
    "status in upper case": "from raw.orders where status = upper(status) and status <> ''",
    "status unmapped": "from raw.orders where lower(trim(status)) in ('shipped', 'xyz')",
    "status null": "from raw.orders where status is null",
    "item status null": "from raw.order_lines where status is null",
    "item status unmapped": "from raw.order_lines where lower(status) in ('in_progress', 'bogus')",
    "channel synonym": "from raw.orders where sales_channel in ('mweb', 'app_ios', 'call_centre')",
    "channel unmapped": "from raw.orders where sales_channel = 'carrier_pigeon'",
    "brand null": "from raw.orders where brand_domain is null",
    "brand empty": "from raw.orders where brand_domain = ''",
    "brand padded": "from raw.orders where brand_domain <> trim(brand_domain)",
    "brand mixed case": "from raw.orders where brand_domain <> lower(brand_domain)",
    "currency lower": "from raw.orders where currency <> upper(currency)",
    "currency padded": "from raw.orders where currency <> trim(currency)",
    "currency invalid": "from raw.orders where currency = 'XXY'",
    "currency null": "from raw.orders where currency is null",
    "line currency lower": "from raw.order_lines where line_currency <> upper(line_currency)",
    "line currency invalid": "from raw.order_lines where upper(trim(line_currency)) = 'XXY'",
    "line currency null": "from raw.order_lines where line_currency is null",
    "total null": "from raw.orders where total_amount is null",
    "refund": "from raw.orders where total_amount < 0",
    "unit price null": "from raw.order_lines where unit_price is null",
    "original price and currency": """from raw.order_lines
        where original_unit_price is not null and original_currency is not null""",
    "original price alone": """from raw.order_lines
        where original_unit_price is not null and original_currency is null""",
    "original currency alone": """from raw.order_lines
        where original_unit_price is null and original_currency is not null""",
    "original currency bad": "from raw.order_lines where original_currency = 'ZZZ'",
    "payment unknown": "from raw.orders where payment_method = 'bitcoin'",
    "payment null": "from raw.orders where payment_method is null",
    "card without brand":
        "from raw.orders where lower(payment_method) = 'card' and card_brand is null",
    "card brand mc": "from raw.orders where lower(card_brand) = 'mc'",
    "card brand unknown": "from raw.orders where card_brand = 'discover'",
    **{f"locale {value}": f"from raw.orders where locale = '{value}'"
       for value in ("en-IE", "fr_FR", "de", "pt-BR", "", "xx-YY")},
    "locale null": "from raw.orders where locale is null",
    "product type car hire": "from raw.order_lines where product_type = 'car hire'",
    "product type car_hire": "from raw.order_lines where product_type = 'car_hire'",
    "product type Checked Bag": "from raw.order_lines where product_type = 'Checked Bag'",
    "product type unknown": "from raw.order_lines where product_type = 'spa treatment'",
    "product code null": "from raw.order_lines where product_code is null",
    "product code empty": "from raw.order_lines where product_code = ''",
    "product name over 128": "from raw.order_lines where length(trim(product_name)) > 128",
    "product name empty": "from raw.order_lines where trim(product_name) = ''",
    "product name null": "from raw.order_lines where product_name is null",
    "description null": "from raw.order_lines where product_description is null",
    "vendor null": "from raw.order_lines where vendor is null",
    "created_at null": "from raw.order_lines where created_at is null",
    "created_at unparseable": "from raw.order_lines where created_at like '%/%'",
    "quantity null": "from raw.order_lines where quantity is null",
    "line reference duplicate": """from (select order_id, trim(line_reference) r
        from (select distinct order_line_id, order_id, line_reference from raw.order_lines)
        group by all having count(*) > 1)""",
    "line reference empty": "from raw.order_lines where trim(line_reference) = ''",
    **{f"passenger type {value}": f"from raw.order_lines where passenger_type = '{value}'"
       for value in ("ADT", "adult", "child", "CHD", "INF", "INFANT", "ins")},
    "passenger type null on flight": """from raw.order_lines
        where lower(trim(product_type)) = 'flight' and passenger_type is null""",
    "passenger type invalid on flight": """from raw.order_lines
        where lower(trim(product_type)) = 'flight' and passenger_type = 'senior'""",
    "passenger index null": "from raw.order_lines where passenger_index is null",
    "passenger index dangling": """from raw.order_lines l where passenger_index is not null
        and not exists (select 1 from raw.order_passengers p
                        where p.order_id = l.order_id and p.passenger_index = l.passenger_index)""",
    "order without lines": """from raw.orders o
        where not exists (select 1 from raw.order_lines l where l.order_id = o.order_id)""",
    "flight line without segments": """from raw.order_lines l
        where lower(trim(product_type)) = 'flight' and not exists
        (select 1 from raw.flight_segments s where s.order_line_id = l.order_line_id)""",
    **{f"flight number {value}": f"from raw.flight_segments where flight_number = '{value}'"
       for value in ("FR 0459", "FR459", "459", "U2 1234", "0", "FR")},
    "flight number U2 on carrier U2":
        "from raw.flight_segments where flight_number = 'U2 1234' and carrier = 'U2'",
    "lower-case airport": "from raw.flight_segments where origin <> upper(origin)",
    "lower-case carrier": "from raw.flight_segments where carrier <> upper(carrier)",
    "carrier missing": "from raw.flight_segments where carrier is null",
    "fare class null": "from raw.flight_segments where fare_class is null",
    "arrival offset unlike departure":
        "from raw.flight_segments where right(departure_at, 6) <> right(arrival_at, 6)",
    **{f"title {value}": f"from raw.customers where title = '{value}'"
       for value in ("mr", "Mrs.", "MS", "Dr", "", "Lord", "Captain")},
    "title null": "from raw.customers where title is null",
    "name padded": "from raw.customers where first_name <> trim(first_name)",
    **{f"name {value}": f"from raw.order_passengers where first_name like '%{value}%' "
                        f"or last_name like '%{value}%'" for value in ("Zoë", "Ōtani", "Seán")},
    **{f"gender {value}": f"from raw.customers where gender = '{value}'"
       for value in ("M", "F", "male", "female", "U", "X", "")},
    "gender null": "from raw.customers where gender is null",
    "email mixed case": "from raw.customers where email <> lower(email)",
    "email padded": "from raw.customers where email <> trim(email)",
    "email invalid":
        "from raw.customers where not regexp_full_match(trim(email), '[^@ ]+@[^@ ]+\\.[^@ ]+')",
    "phone brackets": "from raw.customers where phone_primary like '(%'",
    "phone too short": "from raw.customers where phone_primary = '12345'",
    "phone too long": "from raw.customers where phone_primary = '+35312345678901234'",
    "secondary phone duplicates primary": """from raw.customers where
        regexp_replace(phone_primary, '[ .()-]', '', 'g')
        = regexp_replace(phone_secondary, '[ .()-]', '', 'g')""",
    "customer_id matching no customer": """from raw.orders o where customer_id is not null
        and not exists (select 1 from raw.customers c where c.customer_id = o.customer_id)""",
    "customer with neither email nor identifier": """from raw.customers c
        where not coalesce(regexp_full_match(trim(c.email), '[^@ ]+@[^@ ]+\\.[^@ ]+'), false)
        and not exists (select 1 from raw.customer_identifiers i
                        where i.customer_id = c.customer_id)""",
    "identifier duplicated, one null expiry": """from raw.customer_identifiers
        group by customer_id, provider, external_id
        having count(*) > 1 and count(expires_at) < count(*)""",
    "identifier expired":
        "from raw.customer_identifiers where expires_at < timestamptz '2024-01-01'",
    "identifier blank provider": "from raw.customer_identifiers where trim(provider) = ''",
    "identifier blank id": "from raw.customer_identifiers where trim(external_id) = ''",
    **{f"provider {value}": f"from raw.customer_identifiers where provider = '{value}'"
       for value in ("CRM", "IDENTITY_SYSTEM", "Loyalty Program")},
    "passenger without any name": """from raw.order_passengers
        where coalesce(trim(first_name), '') = '' and coalesce(trim(last_name), '') = ''""",
    **{f"attribute {value}": f"from raw.order_attributes where attribute_name = '{value}'"
       for value in ("Loyalty tier", "UTM_SOURCE", "seat-map viewed", "3ds verified",
                     "seat 2nd row", "---")},
    "attribute names normalising alike": """from raw.order_attributes a
        join raw.order_attributes b using (order_id)
        where a.attribute_name = 'UTM_SOURCE' and b.attribute_name = 'utm source'""",
    **{f"value type {value!r}": f"from raw.order_attributes where value_type = '{value}'"
       for value in ("Number ", "BOOLEAN", " BOOLEAN", "json")},
    **{f"value {value!r}": f"from raw.order_attributes where attribute_value = '{value}'"
       for value in ("5.50", "007", "-0.00", "1e5", "abc", "TRUE", "false", "yes",
                     "2025-01-02", "2025-03-07T17:15:11+01:00", "2025-02-30", "")},
    "attribute value null": "from raw.order_attributes where attribute_value is null",
    "order with over 50 attributes": """from raw.order_attributes group by order_id
        having count(distinct attribute_name) > 50""",
    "line attribute quirks": "from raw.order_line_attributes where attribute_name = '!!!'",
    "line attribute null value": "from raw.order_line_attributes where attribute_value is null",
    "order with three versions": "from raw.orders group by order_id having count(*) = 3",
    "order version tie": "from raw.orders group by order_id, updated_at having count(*) > 1",
    "line version": "from raw.order_lines group by order_line_id having count(*) > 1",
    "line version tie":
        "from raw.order_lines group by order_line_id, updated_at having count(*) > 1",
    "deleted order": "from raw.orders where deleted_at is not null",
    "test order": "from raw.orders where is_test",
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_quirk_appears(con: duckdb.DuckDBPyConnection, quirk: str) -> None:
    assert _count(con, f"select 1 {QUIRKS[quirk]}") > 0


def test_bulk_alone_holds_the_common_quirks(con: duckdb.DuckDBPyConnection) -> None:
    # The bulk carries the variety too, not just the showcase.
    bulk = f"order_id >= {BULK_FIRST_ORDER_ID}"
    for condition in ("deleted_at is not null", "is_test",
                      "booking_reference <> trim(booking_reference)",
                      "ordered_at like '%+0100'", "ordered_at like '% %'",
                      "lower(trim(status)) = 'ticketed'", "total_amount < 0"):
        assert _count(con, f"select 1 from raw.orders where {bulk} and {condition}") > 0, condition


# --- the command -----------------------------------------------------------------


def test_command_prints_the_counts(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "folder" / "w.duckdb"
    result = CliRunner().invoke(
        sample_warehouse, ["--orders", "50", "--seed", "3", "--database", str(database)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(database)) as connection:
        counts = {table: connection.execute(f"select count(*) from raw.{table}").fetchone()[0]
                  for table in RAW_TABLES}
    expected = [f"raw.{table}: {count}" for table, count in counts.items()]
    assert result.output.splitlines() == expected


def test_command_reads_the_database_from_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "env.duckdb"
    result = CliRunner().invoke(sample_warehouse, ["--orders", "0"],
                                env={"CDP_DUCKDB_PATH": str(database)})
    assert result.exit_code == 0, result.output
    assert database.exists()


def test_command_refuses_negative_orders_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sample_warehouse, ["--orders", "-5", "--database", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert result.output == "cdp-loader: --orders must be 0 or more, not -5\n"
    assert not (tmp_path / "w.duckdb").exists()


def test_command_help_shows_the_environment_variable() -> None:
    result = CliRunner().invoke(sample_warehouse, ["--help"])
    assert result.exit_code == 0
    assert "CDP_DUCKDB_PATH" in result.output
    assert "cdp-loader sample-warehouse --orders" in result.output


def test_generation_takes_the_profiles_memory_cap(tmp_path: Path) -> None:
    # The same CDP_DUCKDB_MEMORY_LIMIT as the dbt profile: a bad one is named.
    database = tmp_path / "w.duckdb"
    result = CliRunner().invoke(sample_warehouse, ["--orders", "0", "--database", str(database)],
                                env={"CDP_DUCKDB_MEMORY_LIMIT": "lots"})
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "cannot write the sample warehouse" in result.output
    assert "Memory must have a number" in result.output
    capped = CliRunner().invoke(sample_warehouse, ["--orders", "0", "--database", str(database)],
                                env={"CDP_DUCKDB_MEMORY_LIMIT": "512MB"})
    assert capped.exit_code == 0, capped.output


def test_spills_go_beside_the_warehouse_not_into_the_working_directory(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    with attach_warehouse(database, read_only=False) as connection:
        (temp_directory,) = connection.execute(
            "select current_setting('temp_directory')").fetchone()
    assert temp_directory == f"{database}.tmp"
