"""marshmallow's nested error messages, as located findings."""
from __future__ import annotations

from ..findings import Finding
from ..schema import messages
from .where import Where

UNKNOWN_FIELD = "Unknown field."


def _child(data, key):
    if isinstance(data, dict) and key in data:
        return data[key], True
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return data[key], True
    return None, False


def findings_from(errors, data, where: Where) -> list[Finding]:
    out: list[Finding] = []
    for path, message in messages(errors):
        here, value = where, data
        for key in path:
            child, found = _child(value, key)
            if not found and key in ("key", "value"):
                continue  # fields.Dict nests each entry's errors under "key" and "value"
            here, value = here / key, child
        if message == UNKNOWN_FIELD:
            out.append(here.finding("unknown_field", f"unknown field {here.path[-1]!r}", at_key=True))
        else:
            code = "missing_field" if "Missing data" in message else "invalid_value"
            name = here.path[-1] if here.path else "document"
            out.append(here.finding(code, f"{name}: {message}", at_key=code == "missing_field"))
    return out
