"""A condition tree (load/conditions.py) to the durable_rules expression it means.

The tree is valid by construction (loading refused anything else), so
compiling cannot fail: a test becomes ``{field: value}`` or ``{"$lt": {field:
value}}`` (a reference ``{"$m": other}``), `in` an ``$or`` of equalities,
`not_in` an ``$and`` of ``$neq``, `exists` ``$ex``; a group of one item is that
item, else ``$and`` (All) or ``$or`` (Any) of its items, in written order.
"""
from __future__ import annotations

from ..load.conditions import All, Ref, Test

OPERATORS = {"ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def compile_condition(node) -> dict | None:
    """The durable_rules expression for a condition tree; None (no condition) stays None."""
    if node is None:
        return None
    if isinstance(node, Test):
        return _test(node)
    return _group("$and" if isinstance(node, All) else "$or", [compile_condition(item) for item in node.items])


def _group(operator: str, parts: list) -> dict:
    return parts[0] if len(parts) == 1 else {operator: parts}


def _test(test: Test) -> dict:
    name, value = test.field, test.operand
    if test.op == "exists":
        return {"$ex": {name: 1}}
    if test.op == "in":
        return _group("$or", [{name: v} for v in value])
    if test.op == "not_in":
        return _group("$and", [{"$neq": {name: v}} for v in value])
    if isinstance(value, Ref):
        value = {"$m": value.field}
    return {name: value} if test.op == "eq" else {OPERATORS[test.op]: {name: value}}
