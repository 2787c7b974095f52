"""The canonical bytes of raw_warehouse.md, written independently of the SQL.

The tests parse every batch line and write it again with these rules: a line
the mart built by other rules would not come back the same.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

_SHORT_FORMS = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def canonical_string(text: str) -> str:
    """'"', '\\' and U+0000-U+001F escaped (lower-case hex); all else as itself."""
    out = []
    for character in text:
        if character in '"\\':
            out.append("\\" + character)
        elif character in _SHORT_FORMS:
            out.append(_SHORT_FORMS[character])
        elif ord(character) < 0x20:
            out.append(f"\\u{ord(character):04x}")
        else:
            out.append(character)
    return '"' + "".join(out) + '"'


def canonical(value: Any) -> str:
    """Minified JSON with keys in the order given and numbers as parsed."""
    if isinstance(value, dict):
        members = (f"{canonical_string(key)}:{canonical(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, str):
        return canonical_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal | int):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def parse(line: str) -> Any:
    """A batch line, its numbers kept exact (180.00 stays 180.00)."""
    return json.loads(line, parse_float=Decimal)
