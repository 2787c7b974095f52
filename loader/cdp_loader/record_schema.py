"""Recognise, fast, a batch line that `record_checks` would pass: the validator's fast path.

`record_checks` is the one source of truth: it says what is wrong with a line.
Checking each attribute in Python costs ~80 µs a line, so this module compiles
its tables (attributes, required ones, enumerations, patterns) once into
msgspec types, which decode and check a line in C, and leaves to Python only
the rules that span attributes. `clean_line` returns the line's keys when the
line is certainly clean (no error, no warning) and None otherwise; a None
says nothing about what is wrong, the caller then asks `record_checks`.

What proves a line clean:
- it decodes into the types (every type, enumeration, pattern and length of
  `record_checks`, no null, no empty string or array, no unknown key);
- re-encoding the decoded line gives its exact bytes back. JSON with a
  duplicate key cannot: its decoded object has fewer members than its text.
  So duplicates (which msgspec would silently overwrite), whitespace and
  other spellings of the same values all go the slow way. Money is kept as
  its JSON text, so the export's `180.00` comes back as written;
- the rules across attributes hold (`_order_is_clean`, `_delete_is_clean`).

tests/python/test_record_schema.py holds the two modules together: whatever
this accepts, `record_checks` passes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

from cdp_loader import record_checks as rc

UNSET = msgspec.UNSET

# The canonical key order of raw_warehouse.md ("Record envelope and canonical
# bytes"), then the keys the export never writes. Re-encoding writes a
# struct's fields in this order, so a line in another order takes the slow way.
ORDER_FIELDS = (
    "referenceId", "channel", "pointOfSale", "status", "orderedAt", "currencyCode", "price",
    "paymentType", "cardType", "contact", "consumers", "orderItems", "extensions",
)
CONTACT_FIELDS = (
    "title", "firstName", "lastName", "gender", "dateOfBirth", "email", "phoneNumbers",
    "identifiers", "nationality", "street", "city", "country", "postCode", "state",
    "passportNumber", "passportExpiry",
)
CONSUMER_FIELDS = (
    "title", "firstName", "lastName", "identifiers", "orderItems", "gender", "dateOfBirth",
    "email", "phoneNumbers", "nationality", "country", "passportNumber", "passportExpiry",
)
ITEM_FIELDS = (
    "type", "productId", "name", "description", "vendor", "orderedAt", "quantity", "price",
    "currencyCode", "originalPrice", "originalCurrencyCode", "referenceId", "status", "channel",
    "language", "consumerTypeCode", "flightSegments", "extensions",
)
UPSERT_ITEM_FIELDS = ("referenceId", "status", "extensions")
SEGMENT_FIELDS = (
    "id", "origin", "destination", "departureDateTime", "arrivalDateTime", "flightNumber",
    "fareClass", "fareFamily", "carrier", "originDestination", "bookingClass", "equipmentType",
    "operatingCarrier", "operatingCarrierFlightNumber",
)
IDENTIFIER_FIELDS = ("provider", "id", "expiryDate")
DELETE_FIELDS = ("referenceId", "orderedAt", "orderRef")


def _same_keys(fields: tuple[str, ...], attributes: frozenset[str], what: str) -> None:
    # The orders above are this module's; the attributes are record_checks'.
    if frozenset(fields) != attributes:
        raise RuntimeError(f"record_schema's {what} fields differ from record_checks'")


_same_keys(ORDER_FIELDS, rc.ORDER_ATTRIBUTES, "order")
_same_keys(CONTACT_FIELDS, rc.CONTACT_ATTRIBUTES, "contact")
_same_keys(CONSUMER_FIELDS, rc.CONSUMER_ATTRIBUTES, "consumer")
_same_keys(ITEM_FIELDS, rc.ITEM_ATTRIBUTES, "item")
_same_keys(UPSERT_ITEM_FIELDS, rc.ITEM_UPSERT_ATTRIBUTES, "upsert item")
_same_keys(SEGMENT_FIELDS, rc.SEGMENT_ATTRIBUTES, "segment")
_same_keys(IDENTIFIER_FIELDS, rc.IDENTIFIER_ATTRIBUTES, "identifier")
_same_keys(DELETE_FIELDS, rc.DELETE_ATTRIBUTES, "delete")


def _one_of(values: frozenset[str]) -> Any:
    return Literal[tuple(sorted(values))]  # type: ignore[misc]


def _list_of(element: Any, most: int | None = None) -> Any:
    return Annotated[list[element], msgspec.Meta(min_length=1, max_length=most)]


# Patterns are checked in Python, once per distinct value (_Verdicts): a
# msgspec pattern runs Python's re on every string, 16 µs of a 23 µs decode.
TEXT = Annotated[str, msgspec.Meta(min_length=1)]
# Money and quantities as their JSON text: the re-encoding gives back the export's
# `180.00`, and decoding none into Decimal saves ~4 µs a line. _number checks that
# the value is a JSON number (the first byte of any other JSON value is not - or a digit).
NUMBER = msgspec.Raw
EXTENSION = Annotated[
    dict[str, str | bool | int | float],
    msgspec.Meta(min_length=2, max_length=2 + rc.MAX_EXTENSION_ATTRIBUTES),
]
EXTENSIONS = _list_of(EXTENSION, most=1)

_FIELD_TYPES: dict[str, Any] = {
    "channel": _one_of(rc.CHANNELS), "price": NUMBER, "extensions": EXTENSIONS,
    "title": _one_of(rc.TITLES), "gender": _one_of(rc.GENDERS), "phoneNumbers": _list_of(TEXT),
    "quantity": NUMBER, "originalPrice": NUMBER,
    "name": Annotated[str, msgspec.Meta(min_length=1, max_length=rc.MAX_ITEM_NAME_LENGTH)],
    "consumerTypeCode": _one_of(rc.CONSUMER_TYPE_CODES),
}


def _struct(name: str, fields: tuple[str, ...], required: tuple[str, ...] = (),
            types: dict[str, Any] | None = None) -> type[msgspec.Struct]:
    """A struct of these fields in this order; the required ones have no default."""
    types = {**_FIELD_TYPES, **(types or {})}
    return msgspec.defstruct(
        name,
        [(key, types.get(key, TEXT)) if key in required else (key, types.get(key, TEXT), UNSET)
         for key in fields],
        kw_only=True, forbid_unknown_fields=True,
    )


Identifier = _struct("Identifier", IDENTIFIER_FIELDS, ("provider", "id"))
_PERSON = {"identifiers": _list_of(Identifier)}
Contact = _struct("Contact", CONTACT_FIELDS, types=_PERSON)
Link = _struct("Link", ("referenceId",), ("referenceId",))
Consumer = _struct("Consumer", CONSUMER_FIELDS, types={**_PERSON, "orderItems": _list_of(Link)})
Segment = _struct("Segment", SEGMENT_FIELDS, rc.SEGMENT_REQUIRED)
# name, description and vendor are required of all but FLIGHT items: _item_is_clean.
_ITEM_ALWAYS_REQUIRED = tuple(k for k in rc.ITEM_REQUIRED if k not in rc.FLIGHT_ITEM_OPTIONAL)
Item = _struct("Item", ITEM_FIELDS, _ITEM_ALWAYS_REQUIRED, types={
    "status": _one_of(rc.ITEM_STATUSES), "flightSegments": _list_of(Segment)})
UpsertItem = _struct("UpsertItem", UPSERT_ITEM_FIELDS,
                     types={"status": _one_of(rc.ITEM_STATUSES)})
_ORDER_TYPES = {"status": _one_of(rc.ORDER_STATUSES), "contact": Contact,
                "consumers": _list_of(Consumer)}
Order = _struct("Order", ORDER_FIELDS, rc.ORDER_REQUIRED,
                types={**_ORDER_TYPES, "orderItems": _list_of(Item)})
UpsertOrder = _struct("UpsertOrder", ORDER_FIELDS, rc.ORDER_UPSERT_REQUIRED,
                      types={**_ORDER_TYPES, "orderItems": _list_of(UpsertItem)})
Delete = _struct("Delete", DELETE_FIELDS, ("referenceId", "orderedAt"))


def _line(name: str, mode: str, value: type[msgspec.Struct]) -> msgspec.json.Decoder:
    """A decoder of a whole line of one mode: the envelope's four keys in their order."""
    line = msgspec.defstruct(name, [("ref", str), ("schema", Literal["order"]),
                                    ("mode", Literal[mode]), ("value", value)],
                             forbid_unknown_fields=True)
    return msgspec.json.Decoder(line)


class LineKeys(NamedTuple):
    """What the validator needs of a clean line beyond its being clean."""

    ref: str
    reference_id: str
    ordered_at: str


_DECODERS = {
    b"insert": _line("InsertLine", "insert", Order),
    b"upsert": _line("UpsertLine", "upsert", UpsertOrder),
    b"delete": _line("DeleteLine", "delete", Delete),
}
_encode = msgspec.json.Encoder(decimal_format="number").encode
# Where a canonical line's mode starts: after `{"ref":"<36 characters>","schema":"order","mode":"`.
_MODE_AT = len('{"ref":"') + 36 + len('","schema":"order","mode":"')


def clean_line(body: bytes) -> LineKeys | None:
    """The keys of a line (without its newline) that record_checks passes; None if unsure."""
    decoder = _DECODERS.get(body[_MODE_AT:_MODE_AT + 6])
    if decoder is None:
        return None  # not canonical, or not a mode CDP knows: the slow way says which
    try:
        line = decoder.decode(body)
    except (msgspec.DecodeError, ValueError):
        return None
    # The contact is the one object the types let be empty ("is an empty object"); in a
    # line that re-encodes to itself these bytes cannot be inside a string.
    if b'"contact":{}' in body or _encode(line) != body \
            or not rc.UUID_PATTERN.fullmatch(line.ref):
        return None
    value = line.value
    clean = _delete_is_clean(value) if line.mode == "delete" else _order_is_clean(value)
    return LineKeys(line.ref, value.referenceId, value.orderedAt) if clean else None


class _Verdicts(dict[Any, bool]):
    """Whether each value seen passes one check; UNSET (an absent attribute) always does.

    A dict lookup (in C) per value, the check itself once per distinct value:
    codes recur. Bounded: it starts over when full.
    """

    _SIZE = 100_000  # the times of a day to the second (86,400) fit

    def __init__(self, check: Callable[[str], Any]) -> None:
        super().__init__({UNSET: True})
        self._check = check

    def __missing__(self, value: str) -> bool:
        if len(self) >= self._SIZE:
            self.clear()
            self[UNSET] = True
        verdict = self[value] = bool(self._check(value))
        return verdict


def _matches(pattern: re.Pattern[str]) -> _Verdicts:
    return _Verdicts(pattern.fullmatch)


def _date_time_pieces(pattern: re.Pattern[str], example: str) -> list[_Verdicts]:
    """record_checks' date-time check split at its fixed-width pieces, a dict each.

    The patterns are fixed-width pieces: the date [:10], the time [10:19] (to
    the second) or [10:] (to the minute), the fraction [19:]. Each piece is
    valid or not whatever the others are, so each distinct piece is judged
    once, by record_checks itself, inside a value whose other pieces are
    valid. Days and times recur; whole values, to the millisecond, do not.
    """

    def check(value: str) -> bool:
        return bool(pattern.fullmatch(value)) and rc.is_calendar_time(value)

    if not check(example):
        raise RuntimeError(f"record_schema's example date-time {example} is not valid")
    cuts = [0, 10, *([19] if len(example) > 19 else []), len(example)]
    pieces = []
    for start, end in itertools.pairwise(cuts):
        before, after = example[:start], example[end:]
        pieces.append(_Verdicts(lambda piece, b=before, a=after: check(b + piece + a)))
    return pieces


_MILLIS_DAY, _MILLIS_TIME, _MILLIS_FRACTION = _date_time_pieces(
    rc.UTC_MILLIS_PATTERN, "2000-01-01T00:00:00.000Z")
_MINUTES_DAY, _MINUTES_TIME = _date_time_pieces(rc.MINUTES_PATTERN, "2000-01-01T00:00Z")


def _millis(value: Any) -> bool:
    """Absent, or a millisecond date-time record_checks passes."""
    return value is UNSET or (_MILLIS_DAY[value[:10]] and _MILLIS_TIME[value[10:19]]
                              and _MILLIS_FRACTION[value[19:]])


def _minutes(value: Any) -> bool:
    """Absent, or a date-time to the minute record_checks passes."""
    return value is UNSET or (_MINUTES_DAY[value[:10]] and _MINUTES_TIME[value[10:]])


_CURRENCY = _matches(rc.CURRENCY_PATTERN)
_LANGUAGE = _matches(rc.LANGUAGE_PATTERN)
_ITEM_TYPE = _Verdicts(lambda value: value not in rc.DEPRECATED_ITEM_TYPES
                       and rc.ITEM_TYPE_PATTERN.fullmatch(value))
_UPPER_CODE = _Verdicts(lambda value: value == rc.ascii_upper(value))
_EXTENSION_KEY = _matches(rc.EXTENSION_ATTRIBUTE_PATTERN)
# Extension attribute names found alphanumeric: a set, so a whole extension is one `<=`.
_GOOD_EXTENSION_KEYS: set[str] = set()


_NUMBER_STARTS = frozenset(b"-0123456789")


def _number(raw: Any) -> bool:
    """Absent, or a JSON number (msgspec checked it is JSON)."""
    return raw is UNSET or memoryview(raw)[0] in _NUMBER_STARTS


def _delete_is_clean(value: Any) -> bool:
    return _millis(value.orderedAt) and (
        value.orderRef is UNSET or bool(rc.UUID_PATTERN.fullmatch(value.orderRef)))


# The rules below are record_checks' beyond what the types hold, as one yes or no.
# Flat on purpose: a function call costs what a dozen lookups do, on every line.


def _order_is_clean(order: Any) -> bool:
    upsert = isinstance(order, UpsertOrder)
    ordered_at = order.orderedAt
    if not (_MILLIS_DAY[ordered_at[:10]] and _MILLIS_TIME[ordered_at[10:19]]
            and _MILLIS_FRACTION[ordered_at[19:]] and _CURRENCY[order.currencyCode]
            and _number(order.price)):
        return False
    if not upsert and order.paymentType == rc.CARD_PAYMENT_TYPE and order.cardType is UNSET:
        return False
    if order.extensions is not UNSET and not _extension_is_clean(order.extensions[0]):
        return False
    if not _person_is_clean(order.contact):
        return False
    references: set[str] = set()
    if upsert:
        if not _upsert_items_are_clean(order.orderItems, references):
            return False
    elif not _items_are_clean(order.orderItems, ordered_at, references):
        return False
    consumers = order.consumers
    if consumers is not UNSET:
        for consumer in consumers:
            if consumer.firstName is UNSET and consumer.lastName is UNSET:
                return False
            if not _person_is_clean(consumer):
                return False
            links = consumer.orderItems
            if links is not UNSET:
                for link in links:
                    if link.referenceId not in references:
                        return False
    return True


def _person_is_clean(person: Any) -> bool:
    birth = person.dateOfBirth
    if birth is not UNSET and not (_MINUTES_DAY[birth[:10]] and _MINUTES_TIME[birth[10:]]):
        return False
    identifiers = person.identifiers
    if identifiers is not UNSET:
        for identifier in identifiers:
            if identifier.expiryDate is not UNSET and not _millis(identifier.expiryDate):
                return False
    return True


def _items_are_clean(items: list[Any], order_ordered_at: str, references: set[str]) -> bool:
    # Locals, not globals, in the loop that runs most.
    flight, item_types, currencies, languages = (
        rc.FLIGHT_ITEM_TYPE, _ITEM_TYPE, _CURRENCY, _LANGUAGE)
    days, times, upper = _MINUTES_DAY, _MINUTES_TIME, _UPPER_CODE
    view, digits = memoryview, _NUMBER_STARTS
    for item in items:
        reference = item.referenceId
        if reference in references:
            return False
        references.add(reference)
        item_type = item.type
        if not (item_types[item_type] and currencies[item.currencyCode]
                and currencies[item.originalCurrencyCode] and languages[item.language]
                and view(item.price)[0] in digits):  # price is required
            return False
        quantity, original = item.quantity, item.originalPrice
        if (quantity is not UNSET and view(quantity)[0] not in digits) or (
                original is not UNSET and view(original)[0] not in digits):
            return False
        ordered_at = item.orderedAt
        if ordered_at != order_ordered_at and not _millis(ordered_at):
            return False
        if item.extensions is not UNSET and not _extension_is_clean(item.extensions[0]):
            return False
        if item_type != flight:
            if not (item.consumerTypeCode is UNSET and item.flightSegments is UNSET
                    and item.name is not UNSET and item.description is not UNSET
                    and item.vendor is not UNSET):
                return False
            continue
        if item.consumerTypeCode is UNSET or item.flightSegments is UNSET:
            return False
        for segment in item.flightSegments:
            departure, arrival = segment.departureDateTime, segment.arrivalDateTime
            if not (days[departure[:10]] and times[departure[10:]]
                    and days[arrival[:10]] and times[arrival[10:]]
                    and upper[segment.origin] and upper[segment.destination]
                    and upper[segment.carrier] and upper[segment.originDestination]
                    and upper[segment.bookingClass] and upper[segment.equipmentType]
                    and upper[segment.operatingCarrier]):
                return False
    return True


def _upsert_items_are_clean(items: list[Any], references: set[str]) -> bool:
    for item in items:
        if item.extensions is not UNSET and not _extension_is_clean(item.extensions[0]):
            return False
        reference = item.referenceId
        if reference is not UNSET:
            if reference in references:
                return False
            references.add(reference)
        elif item.status is UNSET and item.extensions is UNSET:
            return False  # an empty object
    return True


def _extension_is_clean(extension: dict[str, Any]) -> bool:
    if extension.get("name") != rc.EXTENSION_NAME or extension.get("key") != rc.EXTENSION_KEY:
        return False
    if extension.keys() <= _GOOD_EXTENSION_KEYS:
        return True
    if not all(_EXTENSION_KEY[key] for key in extension):
        return False
    if len(_GOOD_EXTENSION_KEYS) > _Verdicts._SIZE:
        _GOOD_EXTENSION_KEYS.clear()
    _GOOD_EXTENSION_KEYS.update(extension)
    return True
