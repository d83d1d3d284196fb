"""Rule conditions (`when:`), parsed once, at load time, into a typed tree.

    when:
      prepaid: true                              # equality
      role: {in: [primary_owner, owner]}         # one of
      organization_limit: {exists: true}
      any:                                       # at least one of
        - organization_spend: {gte: {field: organization_limit}}
        - credit_balance: {lte: 0}               # money in USD

A mapping is an ``All`` of its tests; `any:` is an ``Any`` and `all:` an
``All`` of mappings; each test is a ``Test(field, op, operand)``, one per
operator, whose operand is a literal in the engine's units (money in whole
nano-dollars), a tuple of them (`in`, `not_in`), a ``Ref`` to another fact
(`{field: other}`) or None (`exists`). Every node keeps where it is written
and the `each:` values of the rule it belongs to. The compiler
(compile/conditions.py) turns the tree into durable_rules expressions; lint
reasons over the same tree. Nothing else reads `when:`.

Every problem is a located finding. durable_rules hangs on `$nex` (not
exists), so `exists: false` is refused: facts give every field that can be
absent a meaning instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .. import facts as F
from ..findings import Finding, Location
from ..money import AmountError, fmt, to_nano
from .templates import substitute
from .where import Where

COMPARE = ("eq", "ne", "lt", "lte", "gt", "gte")
OPERATORS = (*COMPARE, "in", "not_in", "exists")


@dataclass(frozen=True)
class Ref:
    """`{field: other}`: a comparison with another fact."""
    field: str


@dataclass(frozen=True)
class Test:
    """One test, `field op operand`."""
    field: str
    op: str  # one of OPERATORS
    operand: object  # engine units; a tuple for in/not_in; a Ref; None for exists
    text: str = field(default="", compare=False)  # as written (with `each:` values), for messages
    where: Where | None = field(default=None, compare=False)  # the fact's key
    operand_where: Where | None = field(default=None, compare=False)  # an in-list's items: operand_where / i
    binding: tuple = field(default=(), compare=False)  # the rule's `each:` values: ((name, value), ...)

    @property
    def fields(self) -> tuple:
        """The facts it reads."""
        return (self.field, self.operand.field) if isinstance(self.operand, Ref) else (self.field,)

    @property
    def location(self) -> Location:
        return self.where.key_location

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class _Group:
    items: tuple
    where: Where | None = field(default=None, compare=False)
    binding: tuple = field(default=(), compare=False)

    @property
    def location(self) -> Location:
        return self.where.location


class All(_Group):
    """Every item holds."""


class Any(_Group):
    """At least one item holds."""


def shown(value) -> str:
    """A written value as a policy author wrote it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    return str(value)


class _Parser:
    def __init__(self, binding: dict, known: dict):
        self.binding = binding
        self.pairs = tuple(binding.items())
        self.known = known
        self.findings: list[Finding] = []

    def fail(self, where: Where, code: str, message: str, at_key: bool = False) -> None:
        self.findings.append(where.finding(code, message, at_key=at_key))

    def block(self, mapping, where: Where) -> All | None:
        """A mapping of tests, all of which must hold."""
        if not isinstance(mapping, dict) or not mapping:
            self.fail(where, "invalid_condition", "expected a mapping of conditions")
            return None
        items = []
        for raw_key, raw_test in mapping.items():
            key = substitute(raw_key, self.binding)
            here = where / raw_key  # positions are those of the text as written
            if key in ("any", "all"):
                if not isinstance(raw_test, list) or not raw_test:
                    self.fail(here, "invalid_condition", f"`{key}` takes a list of conditions")
                    continue
                subs = [self.block(sub, here / i) for i, sub in enumerate(raw_test)]
                subs = tuple(s for s in subs if s is not None)
                if subs:
                    items.append((Any if key == "any" else All)(subs, here, self.pairs))
            else:
                items += self.tests(key, raw_test, here)
        return All(tuple(items), where, self.pairs) if items else None

    def tests(self, name: str, raw_test, here: Where) -> list[Test]:
        kind = self.known.get(name)
        if kind is None:
            self.fail(here, "unknown_fact", f"{name!r} is not a fact the engine provides", at_key=True)
            return []
        if not isinstance(raw_test, dict):
            test = substitute(raw_test, self.binding)
            value = self.literal(name, kind, test, here)
            return [] if value is None else [self.test(name, "eq", value, f"{name}: {shown(test)}", here, here)]
        out = []
        for raw_op, raw_operand in raw_test.items():
            op, operand = substitute(raw_op, self.binding), substitute(raw_operand, self.binding)
            at = here / raw_op
            text = f"{name}: {{{op}: {shown(operand)}}}"
            if op in COMPARE:
                if kind in (F.STR, F.BOOL) and op not in ("eq", "ne"):
                    self.fail(at, "invalid_operator", f"{op} does not apply to {kind} {name!r}", at_key=True)
                    continue
                value = self.operand(name, kind, operand, at)
            elif op in ("in", "not_in"):
                if not isinstance(operand, list) or not operand:
                    self.fail(at, "invalid_condition", f"`{op}` takes a list of values")
                    continue
                values = [self.literal(name, kind, v, at / i) for i, v in enumerate(operand)]
                value = tuple(values) if None not in values else None
            elif op == "exists":
                if operand is not True:
                    self.fail(at, "unsupported_condition", "only `exists: true` is supported (durable_rules hangs "
                              "on 'not exists'); test a boolean fact instead")
                    continue
                out.append(self.test(name, op, None, text, here, at))
                continue
            else:
                self.fail(at, "invalid_operator", f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}",
                          at_key=True)
                continue
            if value is not None:
                out.append(self.test(name, op, value, text, here, at))
        return out

    def test(self, name, op, value, text, where: Where, operand_where: Where) -> Test:
        return Test(name, op, value, text, where, operand_where, self.pairs)

    def operand(self, name, kind, operand, at: Where):
        if isinstance(operand, dict):
            if set(operand) != {"field"}:
                self.fail(at, "invalid_condition", "a reference is written {field: NAME}")
                return None
            other = operand["field"]
            other_kind = self.known.get(other)
            if other_kind is None:
                self.fail(at / "field", "unknown_fact", f"{other!r} is not a fact the engine provides")
                return None
            if other_kind != kind:
                self.fail(at / "field", "type_mismatch", f"{name!r} is {kind} but {other!r} is {other_kind}")
                return None
            return Ref(other)
        return self.literal(name, kind, operand, at)

    def literal(self, name, kind, value, at: Where):
        """``value`` in the engine's units if it is a ``kind``, else None and a finding."""
        number = isinstance(value, int) and not isinstance(value, bool)
        ok = {
            F.STR: isinstance(value, str),
            F.BOOL: isinstance(value, bool),
            F.INT: number,
            F.PCT: number,
            F.MONEY: number or isinstance(value, Decimal),
        }[kind]
        if not ok:
            self.fail(at, "type_mismatch", f"{name!r} is {kind}; {value!r} is not")
            return None
        if kind == F.MONEY:
            try:
                return to_nano(Decimal(value))
            except AmountError as exc:
                self.fail(at, "invalid_amount", str(exc))
                return None
        return value


def parse_condition(when, where: Where, binding: dict | None = None, known: dict = F.FIELDS):
    """The condition tree of `when` (None: always) and the findings, with the `each:` values of ``binding``
    substituted. Findings are placed where the text is written."""
    if not when:
        return None, []
    parser = _Parser(binding or {}, known)
    tree = parser.block(when, where)
    return tree, parser.findings
