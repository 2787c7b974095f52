"""The sandbox's order store: CDP's order matching (spec §9-§10) applied to batch records.

Two orders are the same order when their referenceId is equal and their orderedAt values
lie within 24 hours of each other, both ends included. An insert replaces such an order
(or creates one), an upsert updates its top-level fields (or creates one), a delete
removes it. Every change is kept in a history as well.
"""

from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MATCH_WINDOW = timedelta(hours=24)
DELETED = "Order and associated entities deleted"
NOT_FOUND = "No order found for the provided referenceId and orderedAt attributes"
NEEDS_ORDERED_AT = (
    "More than one order exists with that referenceId, please supply the orderedAt date "
    "for the order you wish to delete"
)
NEEDS_ORDER_REF = (
    "More than one order exists with that referenceId within 24 hours of orderedAt, "
    "please supply the orderRef of the order you wish to delete"
)
MISSING_KEYS = "Validation error: referenceId and an ISO 8601 orderedAt are required"


@dataclass(frozen=True)
class Outcome:
    """The result of one record: its code as in the error log, and the message."""

    code: int
    message: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300


@dataclass
class _Order:
    order_ref: str
    reference_id: str
    ordered_at: datetime
    value: dict[str, Any]
    batch_ref: str
    record_ref: Any


@dataclass
class OrderStore:
    """Current orders and the history of changes; safe to use from many threads."""

    # By orderRef, in the order they were created; and by referenceId, which every
    # match starts from, so that a record costs the same however many orders there are.
    _orders: dict[str, _Order] = field(default_factory=dict, init=False)
    _by_reference: dict[str, list[_Order]] = field(default_factory=dict, init=False)
    _history: list[dict[str, Any]] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def apply(self, mode: str, value: Any, *, batch_ref: str, record_ref: Any) -> Outcome:
        """Apply one order record of mode insert, upsert or delete."""
        if not isinstance(value, dict):
            return Outcome(400, MISSING_KEYS)
        with self._lock:
            if mode == "delete":
                return self._delete(value, batch_ref, record_ref)
            return self._write(mode, value, batch_ref, record_ref)

    def orders(self) -> list[dict[str, Any]]:
        """The current orders, oldest first, each with referenceId, orderedAt and value."""
        with self._lock:
            return [
                {
                    "orderRef": order.order_ref,
                    "referenceId": order.reference_id,
                    "orderedAt": order.value.get("orderedAt"),
                    "value": copy.deepcopy(order.value),
                    "batchRef": order.batch_ref,
                    "ref": order.record_ref,
                }
                for order in self._orders.values()
            ]

    def history(self) -> list[dict[str, Any]]:
        """Every change in the order it happened: created, replaced, updated, deleted."""
        with self._lock:
            return copy.deepcopy(self._history)

    def _write(self, mode: str, value: dict[str, Any], batch_ref: str, record_ref: Any) -> Outcome:
        reference_id, ordered_at = _key(value)
        if reference_id is None or ordered_at is None:
            return Outcome(400, MISSING_KEYS)
        matches = self._matches(reference_id, ordered_at)
        if not matches:
            order = _Order(
                str(uuid.uuid4()), reference_id, ordered_at, copy.deepcopy(value),
                batch_ref, record_ref,
            )
            self._orders[order.order_ref] = order
            self._by_reference.setdefault(reference_id, []).append(order)
            self._record("created", order)
            return Outcome(200, "Order created")
        # Several candidates only arise from orders created >24 h apart: take the nearest.
        order = min(matches, key=lambda candidate: abs(candidate.ordered_at - ordered_at))
        if mode == "upsert":
            order.value = {**order.value, **copy.deepcopy(value)}
            action = "updated"
        else:
            order.value = copy.deepcopy(value)
            action = "replaced"
        order.ordered_at, order.batch_ref, order.record_ref = ordered_at, batch_ref, record_ref
        self._record(action, order)
        return Outcome(200, f"Order {action}")

    def _delete(self, value: dict[str, Any], batch_ref: str, record_ref: Any) -> Outcome:
        reference_id, ordered_at = _key(value)
        if reference_id is None:
            return Outcome(400, MISSING_KEYS)
        order_ref = value.get("orderRef")
        if order_ref is not None:
            matches = [
                order for order in self._by_reference.get(reference_id, [])
                if order.order_ref == order_ref
            ]
        elif "orderedAt" not in value:
            matches = list(self._by_reference.get(reference_id, []))
            if len(matches) > 1:
                return Outcome(400, NEEDS_ORDERED_AT)
        elif ordered_at is None:
            return Outcome(400, MISSING_KEYS)
        else:
            matches = self._matches(reference_id, ordered_at)
            if len(matches) > 1:
                return Outcome(400, NEEDS_ORDER_REF)
        if not matches:
            return Outcome(404, NOT_FOUND)
        order = matches[0]
        del self._orders[order.order_ref]
        self._by_reference[reference_id].remove(order)
        order.batch_ref, order.record_ref = batch_ref, record_ref
        self._record("deleted", order)
        return Outcome(200, DELETED)

    def _matches(self, reference_id: str, ordered_at: datetime) -> list[_Order]:
        return [
            order for order in self._by_reference.get(reference_id, [])
            if abs(order.ordered_at - ordered_at) <= MATCH_WINDOW
        ]

    def _record(self, action: str, order: _Order) -> None:
        self._history.append({
            "action": action,
            "orderRef": order.order_ref,
            "referenceId": order.reference_id,
            "orderedAt": order.value.get("orderedAt"),
            "batchRef": order.batch_ref,
            "ref": order.record_ref,
        })


def parse_timestamp(text: Any) -> datetime | None:
    """An ISO 8601 date-time with an offset or `Z` as an aware datetime; None otherwise."""
    if not isinstance(text, str) or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _key(value: dict[str, Any]) -> tuple[str | None, datetime | None]:
    reference_id = value.get("referenceId")
    if not isinstance(reference_id, str) or not reference_id:
        reference_id = None
    return reference_id, parse_timestamp(value.get("orderedAt"))
