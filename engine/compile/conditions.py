"""Rule conditions (`when:`) compiled to durable_rules expressions.

    when:
      prepaid: true                              # equality
      role: {in: [primary_owner, owner]}         # one of
      organization_limit: {exists: true}
      any:                                       # at least one of
        - organization_spend: {gte: {field: organization_limit}}
        - credit_balance: {lte: 0}               # money in USD

Everything written under `when` must hold. Money literals are USD and become
nano-dollars, as the facts are. durable_rules hangs on `$nex` (not exists), so
`exists: false` is refused: facts give every field that can be absent a
meaning instead.
"""
from __future__ import annotations

from decimal import Decimal

from .. import facts as F
from ..findings import Finding
from ..money import AmountError, to_nano
from ..load.where import Where

COMPARE = {"eq": None, "ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


class _Compiler:
    def __init__(self, known: dict):
        self.known = known
        self.findings: list[Finding] = []

    def block(self, when, where: Where):
        """A mapping of tests, all of which must hold."""
        if not isinstance(when, dict) or not when:
            self.findings.append(where.finding("invalid_condition", "expected a mapping of conditions"))
            return None
        parts = []
        for key, test in when.items():
            here = where / key
            if key in ("any", "all"):
                if not isinstance(test, list) or not test:
                    self.findings.append(here.finding("invalid_condition", f"`{key}` takes a list of conditions"))
                    continue
                subs = [self.block(sub, here / i) for i, sub in enumerate(test)]
                subs = [s for s in subs if s is not None]
                if subs:
                    parts.append({"$or" if key == "any" else "$and": subs} if len(subs) > 1 else subs[0])
            else:
                parts.extend(self.test(key, test, here))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def test(self, field: str, test, here: Where) -> list:
        kind = self.known.get(field)
        if kind is None:
            self.findings.append(here.finding("unknown_fact", f"{field!r} is not a fact the engine provides",
                                              at_key=True))
            return []
        if not isinstance(test, dict):
            value = self.literal(field, kind, test, here)
            return [] if value is None else [{field: value}]
        out = []
        for op, operand in test.items():
            at = here / op
            if op in COMPARE:
                if kind in (F.STR, F.BOOL) and op not in ("eq", "ne"):
                    self.findings.append(at.finding("invalid_operator", f"{op} does not apply to {kind} {field!r}",
                                                    at_key=True))
                    continue
                value = self.operand(field, kind, operand, at)
                if value is not None:
                    out.append({field: value} if op == "eq" else {COMPARE[op]: {field: value}})
            elif op in ("in", "not_in"):
                if not isinstance(operand, list) or not operand:
                    self.findings.append(at.finding("invalid_condition", f"`{op}` takes a list of values"))
                    continue
                values = [self.literal(field, kind, v, at / i) for i, v in enumerate(operand)]
                values = [v for v in values if v is not None]
                if values:
                    if op == "in":
                        tests = [{field: v} for v in values]
                        out.append({"$or": tests} if len(tests) > 1 else tests[0])
                    else:
                        tests = [{"$neq": {field: v}} for v in values]
                        out.append({"$and": tests} if len(tests) > 1 else tests[0])
            elif op == "exists":
                if operand is not True:
                    self.findings.append(at.finding("unsupported_condition",
                                                    "only `exists: true` is supported (durable_rules hangs on "
                                                    "'not exists'); test a boolean fact instead"))
                    continue
                out.append({"$ex": {field: 1}})
            else:
                self.findings.append(at.finding("invalid_operator", f"unknown operator {op!r}; use one of "
                                                f"{', '.join([*COMPARE, 'in', 'not_in', 'exists'])}", at_key=True))
        return out

    def operand(self, field, kind, operand, at: Where):
        if isinstance(operand, dict):
            if set(operand) != {"field"}:
                self.findings.append(at.finding("invalid_condition", "a reference is written {field: NAME}"))
                return None
            other = operand["field"]
            other_kind = self.known.get(other)
            if other_kind is None:
                self.findings.append((at / "field").finding("unknown_fact", f"{other!r} is not a fact the engine "
                                                            "provides"))
                return None
            if other_kind != kind:
                self.findings.append((at / "field").finding("type_mismatch", f"{field!r} is {kind} but {other!r} "
                                                            f"is {other_kind}"))
                return None
            return {"$m": other}
        return self.literal(field, kind, operand, at)

    def literal(self, field, kind, value, at: Where):
        ok = {
            F.STR: isinstance(value, str),
            F.BOOL: isinstance(value, bool),
            F.INT: isinstance(value, int) and not isinstance(value, bool),
            F.PCT: isinstance(value, int) and not isinstance(value, bool),
            F.MONEY: isinstance(value, (int, Decimal)) and not isinstance(value, bool),
        }[kind]
        if not ok:
            self.findings.append(at.finding("type_mismatch", f"{field!r} is {kind}; {value!r} is not"))
            return None
        if kind == F.MONEY:
            try:
                return to_nano(Decimal(value))
            except AmountError as exc:
                self.findings.append(at.finding("invalid_amount", str(exc)))
                return None
        return value


def compile_condition(when: dict, where: Where, known: dict = F.FIELDS):
    """The durable_rules expression for `when`, and any findings. Empty `when` is None."""
    if not when:
        return None, []
    compiler = _Compiler(known)
    expression = compiler.block(when, where)
    return expression, compiler.findings
