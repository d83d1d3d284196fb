"""Conditions as data: a rule's `when` as a disjunction of conjunctions of tests."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from ... import facts as F
from ...money import fmt, to_nano
from ...load.templates import substitute
from ...load.where import Where


@dataclass(frozen=True)
class Ref:
    """`{field: other}`: a comparison with another fact."""
    name: str


@dataclass(frozen=True)
class Atom:
    """One test: `field op value`, with where it is written."""
    field: str
    op: str  # eq ne lt lte gt gte in not_in exists
    value: object  # engine units; a tuple for in/not_in; Ref; None for exists
    text: str  # as written (substituted), for messages
    where: Where  # the field's key
    value_where: Where  # the literal (a list's items are value_where / i)

    @property
    def fields(self) -> tuple:
        return (self.field, self.value.name) if isinstance(self.value, Ref) else (self.field,)

    def __str__(self) -> str:
        return self.text


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def _engine_value(field_name: str, value):
    """A literal in the units the engine compares (money in nano-USD)."""
    if F.FIELDS.get(field_name) == F.MONEY and not isinstance(value, bool):
        return to_nano(Decimal(value))
    return value


def parse_when(when, where: Where, binding: dict) -> list[tuple]:
    """`when` as a disjunction (list) of conjunctions (tuples of Atoms)."""
    if not when:
        return [()]

    def block(mapping, here: Where) -> list[tuple]:
        result = [()]
        for raw_key, raw_test in mapping.items():
            key = substitute(raw_key, binding)
            at = here / raw_key
            if key in ("any", "all"):
                branches = [block(sub, at / i) for i, sub in enumerate(raw_test)]
                if key == "any":
                    alternatives = [conj for branch in branches for conj in branch]
                else:
                    alternatives = [sum(parts, ()) for parts in itertools.product(*branches)]
                result = [a + b for a in result for b in alternatives]
            else:
                atoms = tuple(_atoms(key, substitute(raw_test, binding), at))
                result = [conj + atoms for conj in result]
        return result

    return block(when, where)


def _atoms(name: str, test, at: Where):
    if not isinstance(test, dict):
        yield Atom(name, "eq", _engine_value(name, test), f"{name}: {_shown(test)}", at, at)
        return
    for op, operand in test.items():
        text = f"{name}: {{{op}: {_shown(operand)}}}"
        if isinstance(operand, dict) and set(operand) == {"field"}:
            yield Atom(name, op, Ref(operand["field"]), text, at, at / op)
        elif op in ("in", "not_in"):
            yield Atom(name, op, tuple(_engine_value(name, v) for v in operand), text, at, at / op)
        elif op == "exists":
            yield Atom(name, op, None, text, at, at / op)
        else:
            yield Atom(name, op, _engine_value(name, operand), text, at, at / op)
