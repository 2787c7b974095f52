"""Checks one batch line against the CDP Batch API order models: the rules, in one place.

`record_findings` takes a whole parsed line (the envelope `{ref, schema, mode,
value}`) and returns short, human-readable errors and warnings; no errors means
the line is valid. `record_problems` is its errors alone. The rules come from
the spec (`cdp-batch-api.md` §1.3, §3-§9, §11, §12: insert, upsert and delete)
and from the project's conventions (`raw_warehouse.md`: no nulls, no empty
optional strings or arrays). A key no model knows is a warning that names the
nearest known key: CDP's answer to it is not documented.

Messages name the attribute by its path (`orderItems[1].status`) and never
echo a value that could be personal data; codes such as a currency or a status
are echoed because they help and identify nobody.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

ENVELOPE_KEYS = ("ref", "schema", "mode", "value")
SCHEMAS = frozenset({"order"})
MODES = frozenset({"insert", "upsert", "delete"})

ORDER_STATUSES = frozenset({"PURCHASED", "PAYMENT_PENDING", "CONFIRMED", "CANCELLED", "REFUNDED"})
ITEM_STATUSES = frozenset(
    {
        "RESERVED", "PENDING", "DECLINED", "CONFIRMED", "CANCELLED", "REFUNDED", "PURCHASED",
        "UNKNOWN",
    }
)
CHANNELS = frozenset(
    {
        "AIRPORT_KIOSK", "BRANCH", "CALL_CENTER", "GDS", "KIOSK", "MOBILE_APP", "MOBILE_WEB",
        "OFFLINE", "OTA", "OTHER", "WEB",
    }
)
CONSUMER_TYPE_CODES = frozenset({"ADT", "CHD", "INF", "INS"})
DEPRECATED_ITEM_TYPES = frozenset({"BAGGAGE", "FEES", "SEAT_UPGRADES", "INFLIGHT_VOUCHERS"})
FLIGHT_ITEM_TYPE = "FLIGHT"
GENDERS = frozenset({"male", "female", "unknown"})
TITLES = frozenset(
    {
        "Br", "Brigadier", "Capt", "Colonel", "Dame", "Dr", "Elder", "Fr", "General", "Hon",
        "Judge", "Lord", "Master", "Miss", "Mr", "Mrs", "Ms", "Mstr", "Prof", "Rabbi", "Rev",
        "Shaikha", "Sheikh", "Sir", "Sister", "Sr",
    }
)
CARD_PAYMENT_TYPE = "Card"
EXTENSION_NAME = "ext"
EXTENSION_KEY = "default"
MAX_EXTENSION_ATTRIBUTES = 50
MAX_ITEM_NAME_LENGTH = 128

# Attributes each object may carry (spec §3-§9); anything else is refused by CDP.
ORDER_ATTRIBUTES = frozenset(
    {
        "referenceId", "channel", "pointOfSale", "status", "orderedAt", "currencyCode", "price",
        "paymentType", "cardType", "contact", "consumers", "orderItems", "extensions",
    }
)
ORDER_REQUIRED = (
    "referenceId", "channel", "pointOfSale", "status", "orderedAt", "currencyCode", "price",
    "paymentType", "contact", "orderItems",
)
ITEM_ATTRIBUTES = frozenset(
    {
        "type", "productId", "name", "description", "vendor", "orderedAt", "quantity", "price",
        "currencyCode", "originalPrice", "originalCurrencyCode", "referenceId", "status",
        "channel", "language", "consumerTypeCode", "flightSegments", "extensions",
    }
)
ITEM_REQUIRED = (
    "type", "productId", "name", "description", "vendor", "price", "currencyCode",
    "referenceId", "status",
)
# The flight table of "Order item data model" (spec §7.2) makes these optional.
FLIGHT_ITEM_OPTIONAL = frozenset({"name", "description", "vendor"})
# Upsert (spec §12): these order attributes stay required, the others are optional;
# of an item only `status` is supported, and `referenceId`, which names the item
# to update (§13 Q7), and its extension (§7.3).
ORDER_UPSERT_REQUIRED = (
    "referenceId", "channel", "pointOfSale", "orderedAt", "contact", "orderItems",
)
ITEM_UPSERT_ATTRIBUTES = frozenset({"status", "referenceId", "extensions"})
SEGMENT_ATTRIBUTES = frozenset(
    {
        "id", "origin", "destination", "departureDateTime", "arrivalDateTime", "flightNumber",
        "fareClass", "fareFamily", "bookingClass", "equipmentType", "carrier",
        "originDestination", "operatingCarrier", "operatingCarrierFlightNumber",
    }
)
SEGMENT_REQUIRED = (
    "id", "origin", "destination", "departureDateTime", "arrivalDateTime", "flightNumber",
    "fareClass", "carrier",
)
SEGMENT_UPPER_CASE_CODES = (
    "origin", "destination", "carrier", "bookingClass", "equipmentType", "originDestination",
    "operatingCarrier",
)
CONTACT_ATTRIBUTES = frozenset(
    {
        "title", "firstName", "lastName", "gender", "dateOfBirth", "email", "phoneNumbers",
        "identifiers", "nationality", "street", "city", "country", "postCode", "state",
        "passportNumber", "passportExpiry",
    }
)
CONSUMER_ATTRIBUTES = frozenset(
    {
        "title", "firstName", "lastName", "gender", "dateOfBirth", "email", "phoneNumbers",
        "identifiers", "nationality", "country", "passportNumber", "passportExpiry",
        "orderItems",
    }
)
IDENTIFIER_ATTRIBUTES = frozenset({"provider", "id", "expiryDate"})
DELETE_ATTRIBUTES = frozenset({"referenceId", "orderedAt", "orderRef"})

UUID_PATTERN = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
UTC_MILLIS_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
MINUTES_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
LANGUAGE_PATTERN = re.compile(r"[A-Z]{2}")
# Upper case with underscores; the docs' own example type "BET_001-1" has a hyphen too.
ITEM_TYPE_PATTERN = re.compile(r"[A-Z0-9_-]+")
EXTENSION_ATTRIBUTE_PATTERN = re.compile(r"[A-Za-z0-9]+")

@dataclass
class Findings:
    """What the checks found in one line: errors make it invalid, warnings do not."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


Problems = Findings


def record_problems(record: dict[str, Any]) -> list[str]:
    """Return the errors found in one parsed batch line; empty when it is valid."""
    return record_findings(record).errors


def record_findings(record: dict[str, Any]) -> Findings:
    """The errors and warnings of one parsed batch line, whatever its mode."""
    problems = Findings()
    if not isinstance(record, dict):
        problems.error("line is not a JSON object")
        return problems
    keys = list(record)
    if sorted(keys) != sorted(ENVELOPE_KEYS):
        problems.error("envelope must have exactly the keys ref, schema, mode, value")
    ref = record.get("ref")
    if not (isinstance(ref, str) and UUID_PATTERN.fullmatch(ref)):
        problems.error("ref is not a UUID")
    schema = record.get("schema")
    # isinstance first: a list or an object is not hashable, so `in` would raise.
    if not (isinstance(schema, str) and schema in SCHEMAS):
        problems.error(f"schema {_code(schema)} is not 'order'")
    mode = record.get("mode")
    if not (isinstance(mode, str) and mode in MODES):
        problems.error(f"mode {_code(mode)} is not insert, upsert or delete")
        # Still check the whole value: as the model its keys fit, a delete's or an order's.
        mode = "delete" if isinstance(record.get("value"), dict) and set(
            record["value"]) <= DELETE_ATTRIBUTES else "insert"
    value = record.get("value")
    if not isinstance(value, dict):
        problems.error("value is not an object")
        return problems
    _check_no_nulls_or_empties(value, "value", problems)
    if mode == "delete":
        _check_delete(value, problems)
    else:
        _check_order(value, problems, upsert=mode == "upsert")
    return problems


# --- generic rules ---------------------------------------------------------


def _check_no_nulls_or_empties(node: Any, path: str, problems: Problems) -> None:
    """Nulls and empty strings/arrays/objects are never sent (raw_warehouse.md, Conventions).

    Paths are only built for containers and for problems: this runs on every line.
    """
    if isinstance(node, dict):
        if not node:
            problems.error(f"{path} is an empty object")
        # An extension's string value may be empty: it is a value, not a missing one.
        is_extension = path.endswith("]") and ".extensions[" in path
        for key, child in node.items():
            if child is None:
                problems.error(f"{path}.{key} is null")
            elif child == "":
                if not is_extension:
                    problems.error(f"{path}.{key} is an empty string")
            elif isinstance(child, dict | list):
                _check_no_nulls_or_empties(child, f"{path}.{key}", problems)
    elif isinstance(node, list):
        if not node:
            problems.error(f"{path} is an empty array")
        for index, element in enumerate(node):
            if element is None:
                problems.error(f"{path}[{index}] is null")
            elif element == "":
                problems.error(f"{path}[{index}] is an empty string")
            elif isinstance(element, dict | list):
                _check_no_nulls_or_empties(element, f"{path}[{index}]", problems)


def _code(value: Any) -> str:
    """Echo a code value (enumeration, currency) for a message; only short strings."""
    if isinstance(value, str) and len(value) <= 40:
        return repr(value)
    return "(" + _json_type(value) + ")"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unknown_attributes(obj: dict, allowed: frozenset[str], path: str, problems: Problems) -> None:
    for key in obj:
        if key not in allowed:
            problems.warn(unknown_key_message(f"{path}.{key}", key, allowed))


def unknown_key_message(where: str, key: str, known: frozenset[str]) -> str:
    """The warning for a key no model knows, naming the nearest known key when one is near."""
    nearest = _nearest_key(key, known)
    hint = f"; did you mean {nearest}?" if nearest else ""
    return f"{where} is not an attribute of this model{hint}"


@lru_cache(maxsize=4096)
def _nearest_key(key: str, known: frozenset[str]) -> str | None:
    # Compared without case, so `referenceid` finds `referenceId` as readily as `reference`.
    by_lower = {name.lower(): name for name in sorted(known)}
    matches = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


def _require(obj: dict, keys: tuple[str, ...], path: str, problems: Problems) -> None:
    for key in keys:
        if key not in obj:
            problems.error(f"{path}.{key} is required")


def _string(obj: dict, key: str, path: str, problems: Problems) -> str | None:
    """The attribute as a string, or None (reporting a wrong type; nulls are reported apart)."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.error(f"{path}.{key} must be a string, not {_json_type(value)}")
        return None
    return value


def _check_enum(
    obj: dict, key: str, allowed: frozenset[str], what: str, path: str, problems: Problems
) -> None:
    value = _string(obj, key, path, problems)
    if value is not None and value and value not in allowed:
        problems.error(f"{path}.{key} {_code(value)} is not {what}")


def _check_pattern(
    obj: dict,
    key: str,
    pattern: re.Pattern[str],
    what: str,
    path: str,
    problems: Problems,
    echo: bool = True,
) -> None:
    value = _string(obj, key, path, problems)
    if value is not None and value and not pattern.fullmatch(value):
        shown = f" {_code(value)}" if echo else ""
        problems.error(f"{path}.{key}{shown} is not {what}")


def _check_timestamp(
    obj: dict, key: str, path: str, problems: Problems, minutes: bool = False, echo: bool = True
) -> None:
    """UTC millisecond form (orders, items, identifiers) or minutes form (segments, birth dates)."""
    value = _string(obj, key, path, problems)
    if value is None or not value:
        return
    pattern, what = (
        (MINUTES_PATTERN, "YYYY-MM-DDTHH:MMZ")
        if minutes
        else (UTC_MILLIS_PATTERN, "YYYY-MM-DDTHH:MM:SS.sssZ")
    )
    if not (pattern.fullmatch(value) and is_calendar_time(value)):
        shown = f" {_code(value)}" if echo else ""
        problems.error(f"{path}.{key}{shown} is not a date-time written {what}")


def is_calendar_time(value: str) -> bool:
    """Whether a date-time of the right form is on the calendar (no 30 February, no 25:00)."""
    try:
        datetime.fromisoformat(value[:-1])  # without its Z
    except ValueError:
        return False
    return True


def _check_money(obj: dict, key: str, path: str, problems: Problems) -> None:
    value = obj.get(key)
    if value is not None and not _is_number(value):
        problems.error(f"{path}.{key} must be a JSON number, not {_json_type(value)}")


def _object_list(obj: dict, key: str, path: str, problems: Problems) -> list[dict]:
    """The attribute as a list of objects (reporting anything else); [] when absent."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.error(f"{path}.{key} must be an array, not {_json_type(value)}")
        return []
    objects = []
    for index, element in enumerate(value):
        if isinstance(element, dict):
            objects.append(element)
        elif element is not None:
            problems.error(f"{path}.{key}[{index}] must be an object")
    return objects


# --- order delete ----------------------------------------------------------


def _check_delete(value: dict, problems: Problems) -> None:
    path = "value"
    _unknown_attributes(value, DELETE_ATTRIBUTES, path, problems)
    _require(value, ("referenceId", "orderedAt"), path, problems)
    _string(value, "referenceId", path, problems)
    _check_timestamp(value, "orderedAt", path, problems)
    _check_pattern(value, "orderRef", UUID_PATTERN, "a UUID", path, problems, echo=False)


# --- order insert and upsert -----------------------------------------------


def _check_order(value: dict, problems: Problems, upsert: bool = False) -> None:
    path = "value"
    _unknown_attributes(value, ORDER_ATTRIBUTES, path, problems)
    _require(value, ORDER_UPSERT_REQUIRED if upsert else ORDER_REQUIRED, path, problems)
    card = value.get("paymentType") == CARD_PAYMENT_TYPE
    if card and not upsert and "cardType" not in value:
        problems.error(f"{path}.cardType is required when paymentType is 'Card'")
    for key in ("referenceId", "pointOfSale", "paymentType", "cardType"):
        _string(value, key, path, problems)
    _check_enum(value, "channel", CHANNELS, "a CDP channel", path, problems)
    _check_enum(value, "status", ORDER_STATUSES, "an order status", path, problems)
    _check_timestamp(value, "orderedAt", path, problems)
    _check_pattern(value, "currencyCode", CURRENCY_PATTERN, "an ISO 4217 code", path, problems)
    _check_money(value, "price", path, problems)

    contact = value.get("contact")
    if contact is not None:
        if isinstance(contact, dict):
            _check_person(contact, CONTACT_ATTRIBUTES, f"{path}.contact", problems)
        else:
            problems.error(f"{path}.contact must be an object")

    items = _object_list(value, "orderItems", path, problems)
    item_references: set[str] = set()
    check_item = _check_upsert_item if upsert else _check_item
    for index, item in enumerate(items):
        check_item(item, f"{path}.orderItems[{index}]", item_references, problems)

    for index, consumer in enumerate(_object_list(value, "consumers", path, problems)):
        _check_consumer(consumer, f"{path}.consumers[{index}]", item_references, problems)

    _check_extensions(value, path, problems)


def _check_person(
    person: dict, allowed: frozenset[str], path: str, problems: Problems
) -> None:
    """Contact and consumer share these attributes; values are personal, so never echoed."""
    _unknown_attributes(person, allowed, path, problems)
    for key in ("firstName", "lastName", "email", "nationality", "country", "passportNumber"):
        _string(person, key, path, problems)
    _check_enum(person, "title", TITLES, "a CDP title", path, problems)
    _check_enum(person, "gender", GENDERS, "male, female or unknown", path, problems)
    _check_timestamp(person, "dateOfBirth", path, problems, minutes=True, echo=False)
    phones = person.get("phoneNumbers")
    if phones is not None:
        if not isinstance(phones, list):
            problems.error(f"{path}.phoneNumbers must be an array")
        else:
            for index, phone in enumerate(phones):
                if phone is not None and not isinstance(phone, str):
                    problems.error(f"{path}.phoneNumbers[{index}] must be a string")
    for index, identifier in enumerate(_object_list(person, "identifiers", path, problems)):
        _check_identifier(identifier, f"{path}.identifiers[{index}]", problems)


def _check_identifier(identifier: dict, path: str, problems: Problems) -> None:
    _unknown_attributes(identifier, IDENTIFIER_ATTRIBUTES, path, problems)
    _require(identifier, ("provider", "id"), path, problems)
    _string(identifier, "provider", path, problems)
    _string(identifier, "id", path, problems)
    _check_timestamp(identifier, "expiryDate", path, problems)


def _check_consumer(
    consumer: dict, path: str, item_references: set[str], problems: Problems
) -> None:
    _check_person(consumer, CONSUMER_ATTRIBUTES, path, problems)
    if "firstName" not in consumer and "lastName" not in consumer:
        problems.error(f"{path} needs a firstName or a lastName")
    for index, link in enumerate(_object_list(consumer, "orderItems", path, problems)):
        link_path = f"{path}.orderItems[{index}]"
        _unknown_attributes(link, frozenset({"referenceId"}), link_path, problems)
        reference = _string(link, "referenceId", link_path, problems)
        if "referenceId" not in link:
            problems.error(f"{link_path}.referenceId is required")
        elif reference is not None and reference and reference not in item_references:
            problems.error(f"{link_path}.referenceId names no item of this order")


def _check_upsert_item(
    item: dict, path: str, item_references: set[str], problems: Problems
) -> None:
    """An upsert changes an item's status only (spec §12); its other attributes are refused."""
    for key in item:
        if key not in ITEM_ATTRIBUTES:
            problems.warn(unknown_key_message(f"{path}.{key}", key, ITEM_ATTRIBUTES))
        elif key not in ITEM_UPSERT_ATTRIBUTES:
            problems.error(f"{path}.{key} is not supported in upsert mode")
    _check_enum(item, "status", ITEM_STATUSES, "an item status", path, problems)
    _check_item_reference(item, path, item_references, problems)
    _check_extensions(item, path, problems)


def _check_item_reference(
    item: dict, path: str, item_references: set[str], problems: Problems
) -> None:
    reference = _string(item, "referenceId", path, problems)
    if reference:
        if reference in item_references:
            problems.error(f"{path}.referenceId repeats another item's referenceId")
        item_references.add(reference)


def _check_item(item: dict, path: str, item_references: set[str], problems: Problems) -> None:
    _unknown_attributes(item, ITEM_ATTRIBUTES, path, problems)
    is_flight = item.get("type") == FLIGHT_ITEM_TYPE
    for key in ITEM_REQUIRED:
        if key not in item and not (is_flight and key in FLIGHT_ITEM_OPTIONAL):
            problems.error(f"{path}.{key} is required")
    for key in ("productId", "description", "vendor"):
        _string(item, key, path, problems)
    name = _string(item, "name", path, problems)
    if name is not None and len(name) > MAX_ITEM_NAME_LENGTH:
        problems.error(f"{path}.name is longer than {MAX_ITEM_NAME_LENGTH} characters")
    item_type = _string(item, "type", path, problems)
    if item_type:
        if item_type in DEPRECATED_ITEM_TYPES:
            problems.error(f"{path}.type {_code(item_type)} is deprecated")
        elif not ITEM_TYPE_PATTERN.fullmatch(item_type):
            problems.error(f"{path}.type {_code(item_type)} is not upper case with underscores")
    _check_enum(item, "status", ITEM_STATUSES, "an item status", path, problems)
    _check_enum(item, "channel", CHANNELS, "a CDP channel", path, problems)
    _check_timestamp(item, "orderedAt", path, problems)
    _check_money(item, "price", path, problems)
    _check_money(item, "originalPrice", path, problems)
    _check_money(item, "quantity", path, problems)
    for key in ("currencyCode", "originalCurrencyCode"):
        _check_pattern(item, key, CURRENCY_PATTERN, "an ISO 4217 code", path, problems)
    _check_pattern(item, "language", LANGUAGE_PATTERN, "two upper-case letters", path, problems)

    _check_item_reference(item, path, item_references, problems)

    if is_flight:
        if "consumerTypeCode" not in item:
            problems.error(f"{path}.consumerTypeCode is required on a FLIGHT item")
        if "flightSegments" not in item:
            problems.error(f"{path}.flightSegments is required on a FLIGHT item")
    else:
        for key in ("consumerTypeCode", "flightSegments"):
            if key in item:
                problems.error(f"{path}.{key} is only for FLIGHT items")
    _check_enum(
        item, "consumerTypeCode", CONSUMER_TYPE_CODES, "ADT, CHD, INF or INS", path, problems
    )
    for index, segment in enumerate(_object_list(item, "flightSegments", path, problems)):
        _check_segment(segment, f"{path}.flightSegments[{index}]", problems)
    _check_extensions(item, path, problems)


def _check_segment(segment: dict, path: str, problems: Problems) -> None:
    _unknown_attributes(segment, SEGMENT_ATTRIBUTES, path, problems)
    _require(segment, SEGMENT_REQUIRED, path, problems)
    for key in ("id", "flightNumber", "fareClass", "fareFamily", "operatingCarrierFlightNumber"):
        _string(segment, key, path, problems)
    for key in SEGMENT_UPPER_CASE_CODES:
        code = _string(segment, key, path, problems)
        if code and code != ascii_upper(code):
            problems.error(f"{path}.{key} {_code(code)} is not upper case")
    for key in ("departureDateTime", "arrivalDateTime"):
        _check_timestamp(segment, key, path, problems, minutes=True)


def ascii_upper(text: str) -> str:
    """Upper case of the ASCII letters only: a code's other letters are left as they are."""
    return text.translate(_ASCII_UPPER)


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _check_extensions(owner: dict, path: str, problems: Problems) -> None:
    if "extensions" not in owner:
        return
    extensions = owner["extensions"]
    if not isinstance(extensions, list) or len(extensions) != 1:
        if extensions is not None and extensions != []:
            problems.error(f"{path}.extensions must be an array of exactly one object")
        return
    extension = extensions[0]
    ext_path = f"{path}.extensions[0]"
    if not isinstance(extension, dict):
        problems.error(f"{ext_path} must be an object")
        return
    if extension.get("name") != EXTENSION_NAME:
        problems.error(f"{ext_path}.name must be 'ext'")
    if extension.get("key") != EXTENSION_KEY:
        problems.error(f"{ext_path}.key must be 'default'")
    attributes = {k: v for k, v in extension.items() if k not in ("name", "key")}
    if len(attributes) > MAX_EXTENSION_ATTRIBUTES:
        problems.error(
            f"{ext_path} has {len(attributes)} attributes, more than {MAX_EXTENSION_ATTRIBUTES}"
        )
    for key, attribute in attributes.items():
        if not EXTENSION_ATTRIBUTE_PATTERN.fullmatch(key):
            problems.error(f"{ext_path} attribute name {_code(key)} is not alphanumeric")
        if attribute is not None and not _is_extension_value(attribute):
            problems.error(
                f"{ext_path}.{key} must be a string, boolean or number, "
                f"not {_json_type(attribute)}"
            )


def _is_extension_value(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)

