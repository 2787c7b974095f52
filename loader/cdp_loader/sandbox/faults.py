"""The sandbox's fault plan: failures it stages on demand, parsed from a small grammar.

A plan is a comma-separated list of faults (the option may also be repeated):

\b
    429[xN][@KIND][=SECONDS]  N requests answer 429 with Retry-After SECONDS (default 1;
                              0 and fractions allowed)
    500|502|503[xN][@KIND]    N requests answer that server error
    drop[xN]                  N uploads: half the body is read, then the socket is closed
                              without an answer
    expired[xN]               N allocations hand out an upload URL that has already expired
    corrupted[xN]             N uploads are taken as a checksum mismatch: status corrupted
    slow[xN]=SECONDS          processing the next N batches takes SECONDS (without xN: every
                              batch from now on)
    numeric-codes[xN]         the error logs of N batches write codes as JSON numbers, not strings
    file-error[xN]            N batches fail as a whole: nothing is applied, and the error log
                              has one line with no ref (code 400)
    reject=REFERENCE_ID       records of that referenceId fail with code 400
    reject-every=K            every K-th record of each batch file fails with code 400

KIND is allocate, upload, status (one batch, plain or inspect), list (the inspect list),
log (the error log download) or any (the default). N defaults to 1. Request faults
(429, 5xx, drop) are consumed in the order given, each by the first request of its kind;
so `429x2@upload,503@upload` answers 429, 429, then 503 to the next three uploads.
Request faults strike before credentials are checked, as a gateway in front would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

REQUEST_KINDS = ("allocate", "upload", "status", "list", "log")
HTTP_ACTIONS = ("429", "500", "502", "503")
_COUNTED_ACTIONS = (*HTTP_ACTIONS, "drop", "expired", "corrupted", "slow", "numeric-codes",
                    "file-error")
_RULE_ACTIONS = ("reject", "reject-every")
# Longest first so that `reject-every` is not read as `reject` followed by junk.
_ACTIONS = sorted((*_COUNTED_ACTIONS, *_RULE_ACTIONS), key=len, reverse=True)
_REST = re.compile(r"^(?:x(?P<times>\d+))?(?:@(?P<kind>[a-z]+))?(?:=(?P<value>.+))?$")
DEFAULT_RETRY_AFTER = 1.0
REJECTION_MESSAGE = "Validation error: rejected by the sandbox fault plan"


class FaultSpecError(ValueError):
    """A fault spec that does not follow the grammar; the message is one line."""


@dataclass(frozen=True)
class RequestFault:
    """What the server does instead of answering one request."""

    action: str  # "429", "500", "502", "503" or "drop"
    retry_after: float | None = None

    @property
    def status(self) -> int | None:
        """The HTTP status to answer with; None for a dropped connection."""
        return None if self.action == "drop" else int(self.action)


@dataclass
class _Fault:
    action: str
    kind: str
    remaining: int
    value: float | None
    reference: str | None = None

    def __str__(self) -> str:
        text = f"{self.action}x{self.remaining}"
        if self.action in HTTP_ACTIONS and self.kind != "any":
            text += f"@{self.kind}"
        if self.value is not None:
            text += f"={self.value:g}"
        return text


class FaultPlan:
    """Faults the sandbox stages, consumed in order; safe to use from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counted: list[_Fault] = []
        self._rejected_references: list[str] = []
        self._reject_every: list[int] = []
        self._slow_always: float | None = None

    @classmethod
    def parse(cls, spec: str | Iterable[str] | None = None) -> FaultPlan:
        """Build a plan from one spec string or several (each comma-separated)."""
        plan = cls()
        if spec is None:
            return plan
        for text in [spec] if isinstance(spec, str) else spec:
            plan.add(text)
        return plan

    def add(self, spec: str) -> None:
        """Append the faults of a spec to the plan; FaultSpecError if any is malformed."""
        parsed = [_parse_token(token.strip()) for token in spec.split(",") if token.strip()]
        with self._lock:
            for fault in parsed:
                self._append(fault)

    def _append(self, fault: _Fault) -> None:
        if fault.action == "reject":
            self._rejected_references.append(fault.reference or "")
        elif fault.action == "reject-every":
            self._reject_every.append(int(fault.value or 0))
        elif fault.action == "slow" and fault.remaining == 0:
            self._slow_always = fault.value
        else:
            self._counted.append(fault)

    def take_request_fault(self, kind: str) -> RequestFault | None:
        """Consume the first pending 429/5xx/drop fault that applies to a request of `kind`."""
        with self._lock:
            for fault in self._counted:
                if fault.action == "drop" and kind != "upload":
                    continue
                if fault.action in HTTP_ACTIONS and fault.kind not in ("any", kind):
                    continue
                if fault.action not in (*HTTP_ACTIONS, "drop"):
                    continue
                self._consume(fault)
                return RequestFault(fault.action, fault.value)
        return None

    def take_expired_url(self) -> bool:
        """Consume one `expired` fault: this allocation's upload URL is already expired."""
        return self._take_simple("expired") is not None

    def take_corrupted(self) -> bool:
        """Consume one `corrupted` fault: this upload counts as a checksum mismatch."""
        return self._take_simple("corrupted") is not None

    def take_numeric_codes(self) -> bool:
        """Consume one `numeric-codes` fault: this error log writes codes as numbers."""
        return self._take_simple("numeric-codes") is not None

    def take_file_error(self) -> bool:
        """Consume one `file-error` fault: this batch fails as a whole."""
        return self._take_simple("file-error") is not None

    def take_processing_delay(self) -> float:
        """Seconds the next batch's processing takes on top of the sandbox's own setting."""
        fault = self._take_simple("slow")
        if fault is not None:
            return fault.value or 0.0
        with self._lock:
            return self._slow_always or 0.0

    def rejection(self, line_number: int, reference_id: object) -> str | None:
        """The 400 message for a record the plan rejects (line_number is 1-based), else None."""
        with self._lock:
            if isinstance(reference_id, str) and reference_id in self._rejected_references:
                return REJECTION_MESSAGE
            if any(line_number % k == 0 for k in self._reject_every):
                return REJECTION_MESSAGE
        return None

    def _take_simple(self, action: str) -> _Fault | None:
        with self._lock:
            for fault in self._counted:
                if fault.action == action:
                    self._consume(fault)
                    return fault
        return None

    def _consume(self, fault: _Fault) -> None:
        fault.remaining -= 1
        if fault.remaining == 0:
            self._counted.remove(fault)

    def __str__(self) -> str:
        """What is still pending, written in the plan's own grammar ("" when nothing)."""
        with self._lock:
            parts = [str(fault) for fault in self._counted]
            if self._slow_always is not None:
                parts.append(f"slow={self._slow_always:g}")
            parts += [f"reject={ref}" for ref in self._rejected_references]
            parts += [f"reject-every={k}" for k in self._reject_every]
        return ",".join(parts)

    def __bool__(self) -> bool:
        return bool(str(self))


def _parse_token(token: str) -> _Fault:
    action = next((name for name in _ACTIONS if token.startswith(name)), None)
    if action is None:
        raise FaultSpecError(f"unknown fault {token!r}; expected one of {', '.join(_ACTIONS)}")
    match = _REST.match(token[len(action):])
    if match is None:
        raise FaultSpecError(f"bad fault {token!r}; expected NAME[xN][@KIND][=VALUE]")
    times, kind, value = match["times"], match["kind"], match["value"]
    if action in _RULE_ACTIONS:
        return _parse_rule(token, action, times, kind, value)
    count = _parse_times(token, times)
    if kind is not None and action not in HTTP_ACTIONS:
        raise FaultSpecError(f"bad fault {token!r}: only 429/500/502/503 take @KIND")
    if kind is not None and kind not in (*REQUEST_KINDS, "any"):
        raise FaultSpecError(
            f"bad fault {token!r}: KIND must be one of {', '.join(REQUEST_KINDS)}, any"
        )
    return _Fault(action, kind or "any", count, _parse_value(token, action, value))


def _parse_rule(
    token: str, action: str, times: str | None, kind: str | None, value: str | None
) -> _Fault:
    if times is not None or kind is not None:
        raise FaultSpecError(f"bad fault {token!r}: {action} takes only =VALUE")
    if not value:
        raise FaultSpecError(f"bad fault {token!r}: {action} needs =VALUE")
    if action == "reject":
        return _Fault(action, "any", 0, None, reference=value)
    if not value.isdigit() or int(value) < 1:
        raise FaultSpecError(f"bad fault {token!r}: reject-every needs a whole number K >= 1")
    return _Fault(action, "any", 0, float(value))


def _parse_times(token: str, times: str | None) -> int:
    if times is None:
        return 0 if token.startswith("slow") else 1
    if int(times) < 1:
        raise FaultSpecError(f"bad fault {token!r}: xN needs N >= 1")
    return int(times)


def _parse_value(token: str, action: str, value: str | None) -> float | None:
    if action not in ("429", "slow"):
        if value is not None:
            raise FaultSpecError(f"bad fault {token!r}: {action} takes no =VALUE")
        return None
    if value is None:
        if action == "slow":
            raise FaultSpecError(f"bad fault {token!r}: slow needs =SECONDS")
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise FaultSpecError(f"bad fault {token!r}: SECONDS must be a number >= 0")
    return seconds
