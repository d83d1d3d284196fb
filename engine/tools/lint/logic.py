"""Domains (the values a fact can take) and reasoning over conjunctions of tests.

A rule's condition tree (load/conditions.py) is read as a disjunction of
conjunctions of its tests (``dnf``); each conjunction is analysed against
what a decision of one plan, event type and channel can contain.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ... import facts as F
from ...load.conditions import Any, Ref, Test, shown
from .codes import _MINIMUM


def dnf(node) -> list[tuple]:
    """A condition tree as a disjunction (list) of conjunctions (tuples of Tests), in written order."""
    if node is None:
        return [()]
    if isinstance(node, Test):
        return [(node,)]
    parts = [dnf(item) for item in node.items]
    if isinstance(node, Any):
        return [conj for part in parts for conj in part]
    return [sum(conjs, ()) for conjs in itertools.product(*parts)]


@dataclass(frozen=True)
class Num:
    """Whole numbers in [lo, hi] minus ``excluded``, or only ``values``."""
    lo: int | None = None
    hi: int | None = None
    excluded: frozenset = frozenset()
    values: frozenset | None = None

    def normal(self) -> "Num":
        if self.values is not None:
            kept = frozenset(v for v in self.values if self._within(v) and v not in self.excluded)
            return Num(None, None, frozenset(), kept)
        return self

    def _within(self, v) -> bool:
        return (self.lo is None or v >= self.lo) and (self.hi is None or v <= self.hi)

    def restrict(self, op: str, value) -> "Num":
        lo, hi, excluded, values = self.lo, self.hi, self.excluded, self.values
        if op == "eq":
            values = frozenset({value}) if values is None else values & {value}
        elif op == "in":
            values = frozenset(value) if values is None else values & set(value)
        elif op == "ne":
            excluded = excluded | {value}
        elif op == "not_in":
            excluded = excluded | set(value)
        elif op in ("lt", "lte"):
            top = value - 1 if op == "lt" else value
            hi = top if hi is None else min(hi, top)
        elif op in ("gt", "gte"):
            bottom = value + 1 if op == "gt" else value
            lo = bottom if lo is None else max(lo, bottom)
        return Num(lo, hi, excluded, values).normal()

    @property
    def empty(self) -> bool:
        if self.values is not None:
            return not self.values
        if self.lo is not None and self.hi is not None:
            if self.lo > self.hi:
                return True
            return self.hi - self.lo < len(self.excluded) and \
                all(v in self.excluded for v in range(self.lo, self.hi + 1))
        return False

    def within(self, other: "Num") -> bool:
        """Every value of self is a value of other."""
        if self.empty:
            return True
        if self.values is not None:
            return all(other.holds(v) for v in self.values)
        if other.values is not None:
            return False
        if other.lo is not None and (self.lo is None or self.lo < other.lo):
            return False
        if other.hi is not None and (self.hi is None or self.hi > other.hi):
            return False
        return all(not self._within(v) or v in self.excluded for v in other.excluded)

    def holds(self, v) -> bool:
        return self._within(v) and v not in self.excluded and (self.values is None or v in self.values)


def _restrict_set(domain: frozenset, op: str, value) -> frozenset:
    if op == "eq":
        return domain & {value}
    if op == "ne":
        return domain - {value}
    if op == "in":
        return domain & set(value)
    if op == "not_in":
        return domain - set(value)
    return domain  # exists; order comparisons do not apply to text and booleans


# How two facts compare: the orderings still possible, of {<, =, >}.
_ORDER = {"lt": {"<"}, "lte": {"<", "="}, "gt": {">"}, "gte": {">", "="}, "eq": {"="}, "ne": {"<", ">"}}
_FLIP = {"<": ">", ">": "<", "=": "="}
_ALL_ORDERS = frozenset({"<", "=", ">"})

ALWAYS, MAYBE = "always", "maybe"


@dataclass
class Scope:
    """What decisions of one plan, event type and channel can contain."""
    plan: object | None
    event: str | None
    channel: str | None
    domains: dict  # fact -> frozenset (text, booleans) or Num
    presence: dict  # fact -> ALWAYS | MAYBE; absent: never provided

    def domain(self, name: str):
        if name in self.domains:
            return self.domains[name]
        return Num(_MINIMUM.get(name)) if F.FIELDS.get(name) in (F.MONEY, F.INT, F.PCT) else frozenset()


@dataclass
class Analysis:
    ok: bool
    culprit: Test | None = None
    reason: str = ""
    domains: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    tested: set = field(default_factory=set)


def analyse(conj: tuple, scope: Scope) -> Analysis:
    """Can every test of ``conj`` hold at once in ``scope``?"""
    result = Analysis(True)
    seen: dict[str, list] = {}
    for atom in conj:
        for name in atom.fields:
            if name not in scope.presence:
                return Analysis(False, atom, f"`{name}` is never provided")
        result.tested.update(atom.fields)
        if isinstance(atom.operand, Ref):
            a, b = atom.field, atom.operand.field
            orders = _ORDER[atom.op] if a <= b else {_FLIP[o] for o in _ORDER[atom.op]}
            key = (min(a, b), max(a, b))
            result.orders[key] = result.orders.get(key, _ALL_ORDERS) & orders
            if not result.orders[key]:
                return Analysis(False, atom, f"`{atom}` contradicts {_others(seen.get(key), atom)}")
            seen.setdefault(key, []).append(atom)
            continue
        before = result.domains.get(atom.field, scope.domain(atom.field))
        after = before.restrict(atom.op, atom.operand) if isinstance(before, Num) \
            else _restrict_set(before, atom.op, atom.operand)
        result.domains[atom.field] = after
        if _is_empty(after):
            earlier = seen.get(atom.field)
            if earlier:
                return Analysis(False, atom, f"`{atom}` contradicts {_others(earlier, atom)}")
            return Analysis(False, atom, f"`{atom}` never holds: {_describe(atom.field, scope.domain(atom.field))}")
        seen.setdefault(atom.field, []).append(atom)
    return result


def _is_empty(domain) -> bool:
    return domain.empty if isinstance(domain, Num) else not domain


def _others(atoms, atom: Test) -> str:
    if not atoms:
        return "the rule's other tests"
    same_file = all(a.where.file == atom.where.file for a in atoms)
    return ", ".join(f"`{a}` (line {a.where.key_location.line})" if same_file else f"`{a}` ({a.where.key_location})"
                     for a in atoms)


def _describe(name: str, domain) -> str:
    if isinstance(domain, Num):
        return f"`{name}` is never in that range"
    if not domain:
        return f"`{name}` has no such value"
    values = ", ".join(shown(v) for v in sorted(domain, key=str))
    return f"`{name}` is only ever {values}" if len(domain) > 1 else f"`{name}` is always {values}"


def implies(a: tuple, b: tuple, scope: Scope) -> bool:
    """Whenever every test of ``a`` holds (in scope), every test of ``b`` holds."""
    found = analyse(a, scope)
    if not found.ok:
        return True
    for atom in b:
        for name in atom.fields:
            if name not in found.tested and scope.presence.get(name) != ALWAYS:
                return False
        if isinstance(atom.operand, Ref):
            x, y = atom.field, atom.operand.field
            key = (min(x, y), max(x, y))
            wanted = _ORDER[atom.op] if x <= y else {_FLIP[o] for o in _ORDER[atom.op]}
            if not found.orders.get(key, _ALL_ORDERS) <= wanted:
                return False
            continue
        have = found.domains.get(atom.field, scope.domain(atom.field))
        if isinstance(have, Num):
            if not have.within(have.restrict(atom.op, atom.operand)):
                return False
        elif not have <= _restrict_set(have, atom.op, atom.operand):
            return False
    return True


def dnf_implies(a: list, b: list, scope: Scope) -> bool:
    return all(any(implies(x, y, scope) for y in b) for x in a if analyse(x, scope).ok)


def dnf_overlap(a: list, b: list, scope: Scope) -> bool:
    return any(analyse(x + y, scope).ok for x in a for y in b)
