"""marshmallow's nested error messages, as located findings."""
from __future__ import annotations

from ..findings import Finding
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

    def walk(node, value, here: Where):
        if isinstance(node, list):
            for message in node:
                if isinstance(message, (dict, list)):
                    walk(message, value, here)
                elif message == UNKNOWN_FIELD:
                    out.append(here.finding("unknown_field", f"unknown field {here.path[-1]!r}", at_key=True))
                else:
                    code = "missing_field" if "Missing data" in str(message) else "invalid_value"
                    name = here.path[-1] if here.path else "document"
                    out.append(here.finding(code, f"{name}: {message}", at_key=code == "missing_field"))
            return
        if isinstance(node, dict):
            for key, sub in node.items():
                if key == "_schema":
                    walk(sub, value, here)
                    continue
                child, found = _child(value, key)
                # fields.Dict nests errors under "key"/"value" for each entry.
                if not found and key in ("key", "value") and isinstance(sub, (dict, list)):
                    walk(sub, value, here)
                    continue
                walk(sub, child, here / key)

    walk(errors, data, where)
    return out
