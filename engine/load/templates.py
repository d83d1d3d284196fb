"""`each:` expands one written rule into one rule per combination of values.

    id: notify_{level}_{pct}
    each: {level: [organization, individual], pct: [50, 80]}

gives four rules. A string that is exactly ``"{pct}"`` takes the value itself
(so numbers stay numbers); elsewhere ``{name}`` is replaced by its text.
"""
from __future__ import annotations

import itertools
import re

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def combinations(each: dict) -> list[dict]:
    if not each:
        return [{}]
    names = list(each)
    return [dict(zip(names, values)) for values in itertools.product(*(each[n] for n in names))]


def substitute(value, binding: dict):
    if not binding:
        return value
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in binding:
            return binding[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(binding[m.group(1)]) if m.group(1) in binding else m.group(0), value)
    if isinstance(value, dict):
        return {substitute(k, binding): substitute(v, binding) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, binding) for v in value]
    return value


def unbound(value) -> set[str]:
    """Placeholder names still present after substitution (a typo in `each`)."""
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(unbound(k) | unbound(v) for k, v in value.items())) if value else set()
    if isinstance(value, list):
        return set().union(*(unbound(v) for v in value)) if value else set()
    return set()
