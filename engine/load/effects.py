"""Rule effects (`then:`): what a rule does when its conditions hold.

    then:
      block: org_limit_reached            # or refuse: <reason>; allow: true
      resume:                             # ways out, from the vocabulary
        - raise_limit: {level: organization}
        - wait_for_period: {date: $next_period_start}
      charge: usage                       # a pricing function (events.CHARGES)
      notify: {spend_threshold: {level: organization, threshold_pct: 80}}
      transition: {period_reset: {date: $period_start}}
      apply: [reset_period]               # state changes for whoever keeps the books (events.STATE_CHANGES)

A value written `$name` is taken from the decision's context (facts.CONTEXT_VALUES).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..events import CHARGES, STATE_CHANGES as APPLY
from ..facts import CONTEXT_VALUES
from ..findings import Finding
from .where import Where

KEYS = ("allow", "block", "refuse", "resume", "charge", "notify", "transition", "apply")


@dataclass(frozen=True)
class Action:
    name: str
    params: tuple = ()  # ((key, value), ...); a value may be "$context_name"
    where: Where | None = field(default=None, compare=False)  # its name (written with parameters), or the item

    def resolve(self, context: dict) -> dict:
        return {k: context[v[1:]] if isinstance(v, str) and v.startswith("$") else v for k, v in self.params}


@dataclass(frozen=True)
class Effects:
    allow: bool = False
    block: str | None = None
    refuse: str | None = None
    resume: tuple = ()
    charge: tuple = ()
    notify: tuple = ()
    transition: Action | None = None
    apply: tuple = field(default=())
    where: Where | None = field(default=None, compare=False)  # the `then:` mapping
    apply_at: tuple = field(default=(), compare=False)  # where each state change of `apply` is written


class _Parser:
    def __init__(self, vocabulary: dict, charges: dict):
        self.vocabulary = vocabulary
        self.charges = charges
        self.findings: list[Finding] = []

    def error(self, where: Where, code: str, message: str, at_key=False):
        self.findings.append(where.finding(code, message, at_key=at_key))

    def effects(self, then: dict, where: Where) -> Effects:
        for key in then:
            if key not in KEYS:
                self.error(where / key, "unknown_effect", f"{key!r} is not an effect; use one of {', '.join(KEYS)}",
                           at_key=True)
        allow = then.get("allow", False)
        if allow not in (True, False):
            self.error(where / "allow", "invalid_effect", "allow is true or false")
        block = self.reason(then.get("block"), "block", where / "block")
        refuse = self.reason(then.get("refuse"), "refuse", where / "refuse")
        if allow is True and (block or refuse):
            self.error(where, "conflicting_effects", "a rule cannot both allow and block or refuse")
        resume = self.actions(then.get("resume"), self.vocabulary["resume"], where / "resume", exact=True)
        if resume and not (then.get("block") or then.get("refuse")):
            self.error(where / "resume", "invalid_effect", "resume only goes with block or refuse", at_key=True)
        charge = self.actions(then.get("charge"), self.charges, where / "charge", exact=False)
        notify = self.actions(then.get("notify"), self.vocabulary["notifications"], where / "notify", exact=False)
        transition = self.actions(then.get("transition"), self.vocabulary["transitions"], where / "transition",
                                  exact=True)
        if len(transition) > 1:
            self.error(where / "transition", "invalid_effect", "a rule makes at most one transition")
        apply = then.get("apply", [])
        places = [where / "apply" / i for i in range(len(apply))] if isinstance(apply, list) else [where / "apply"]
        if isinstance(apply, str):
            apply = [apply]
        if not isinstance(apply, list):
            self.error(where / "apply", "invalid_effect", "apply takes a list of state changes")
            apply = []
        for name, at in zip(apply, places):
            if name not in APPLY:
                self.error(at, "unknown_apply", f"{name!r} is not a state change; use one of "
                           f"{', '.join(sorted(APPLY))}")
        known = [(name, at) for name, at in zip(apply, places) if name in APPLY]
        return Effects(allow is True, block, refuse, tuple(resume), tuple(charge), tuple(notify),
                       transition[0] if transition else None, tuple(name for name, _ in known), where,
                       tuple(at for _, at in known))

    def reason(self, code, kind: str, where: Where):
        if code is None:
            return None
        reasons = self.vocabulary["reasons"]
        if code not in reasons:
            self.error(where, "unknown_reason", f"{code!r} is not a reason code in the vocabulary")
            return None
        if reasons[code]["kind"] != kind:
            self.error(where, "reason_kind", f"{code!r} is a {reasons[code]['kind']} reason, not a {kind} reason")
        return code

    def actions(self, value, declared: dict, where: Where, exact: bool) -> list[Action]:
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            here = where / i if isinstance(value, list) else where
            if isinstance(item, str):
                name, params = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                name, params = next(iter(item.items()))
                params = {} if params is None else params
                here = here / name
            else:
                self.error(here, "invalid_effect", "write a name, or {name: {param: value}}")
                continue
            if name not in declared:
                self.error(here, "unknown_name", f"{name!r} is not one of {', '.join(sorted(declared))}",
                           at_key=isinstance(item, dict))
                continue
            if not isinstance(params, dict):
                self.error(here, "invalid_effect", "parameters are a mapping")
                continue
            allowed = set(declared[name]["params"]) if isinstance(declared[name], dict) else set(declared[name])
            given = set(params)
            if given - allowed:
                self.error(here, "unknown_param", f"{name} takes {sorted(allowed) or 'no parameters'}, "
                           f"not {sorted(given - allowed)}")
            if exact and allowed - given:
                self.error(here, "missing_param", f"{name} needs {sorted(allowed - given)}")
            for key, v in params.items():
                if isinstance(v, str) and v.startswith("$") and v[1:] not in CONTEXT_VALUES:
                    self.error(here / key, "unknown_context_value",
                               f"{v!r} is not a context value; use one of ${', $'.join(CONTEXT_VALUES)}")
            out.append(Action(name, tuple(sorted(params.items())), here))
        return out


def parse_effects(then: dict, where: Where, vocabulary: dict, charges: dict = CHARGES):
    parser = _Parser(vocabulary, charges)
    return parser.effects(then, where), parser.findings
