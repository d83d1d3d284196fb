"""A decision, assembled from the rules durable_rules fired.

Outcome: any refusal refuses, else any block blocks, else an `allow` allows;
when no rule allows, the request is refused (deny by default). Charges,
state changes and transitions only stand when the outcome is allow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..events import STATE_CHANGES
from ..money import ZERO, fmt
from ..periods import add_months, period_start
from .context import Context
from .pricing import PRICES, total

ALLOW, BLOCK, REFUSE = "allow", "block", "refuse"
DEFAULT_DENY = "not_available_on_plan"


@dataclass
class Decision:
    outcome: str
    plan: str
    event: str
    as_of: date
    policy_version: str
    reasons: list = field(default_factory=list)
    resume: list = field(default_factory=list)
    binding_limit: dict | None = None
    charges: list = field(default_factory=list)
    notifications: list = field(default_factory=list)
    transition: dict | None = None
    changes: list = field(default_factory=list)
    trace: list = field(default_factory=list)
    # What rendering a message needs beyond the reasons: the acting member's
    # seat type (as sent, or the plan's only one) and the product asked for.
    seat_type: str | None = None
    product: str | None = None
    # The validated request it was made from: what a replay needs to decide it again.
    request: dict | None = field(default=None, repr=False, compare=False)

    def request_json(self) -> dict | None:
        """The request as JSON-safe data (amounts as text, dates ISO), for records and replays."""
        return None if self.request is None else _plain(self.request)

    @property
    def total(self) -> Decimal:
        return total(self.charges)

    @property
    def reason_codes(self) -> list[str]:
        return [r["code"] for r in self.reasons]

    def to_dict(self, explain: bool = False) -> dict:
        out = {
            "outcome": self.outcome,
            "plan": self.plan,
            "event": self.event,
            "as_of": self.as_of.isoformat(),
            "policy_version": self.policy_version,
            "reasons": [_plain(r) for r in self.reasons],
            "resume": [_plain(r) for r in self.resume],
            "binding_limit": _plain(self.binding_limit),
            "charges": {"lines": [line.to_dict() for line in self.charges], "total": fmt(self.total)},
            "notifications": [_plain(n) for n in self.notifications],
            "transition": _plain(self.transition),
            "changes": [_plain(c) for c in self.changes],
        }
        if explain:
            out["trace"] = list(self.trace)
        return out


def _plain(value):
    """Decimals as exact text, dates as ISO: JSON-safe without floats. Text and whole
    numbers, most of what a decision holds, return at the first test (a usage answer
    renders one per record: bench/ledger.py)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def assemble(ctx: Context, fired_rules: list) -> Decision:
    """``fired_rules``: the Rule objects that fired, in the order they are written."""
    vocabulary = ctx.policy.vocabulary
    decision = Decision(ALLOW, ctx.plan.id, ctx.event["type"], ctx.as_of, ctx.policy.version,
                        seat_type=ctx.fact.get("seat_type"), product=ctx.event.get("product"))
    refusals, blocks, allowed = [], [], False
    for rule in fired_rules:
        effects = rule.effects
        decision.trace.append({"rule": rule.id, "cites": list(rule.cites), "file": rule.location.file,
                               "line": rule.location.line, "column": rule.location.column})
        allowed |= effects.allow
        for code, bucket in ((effects.refuse, refusals), (effects.block, blocks)):
            if code:
                bucket.append(_reason(ctx, code, rule, vocabulary))
                for action in effects.resume:
                    entry = {"action": action.name, **action.resolve(ctx.values)}
                    if entry not in decision.resume:
                        decision.resume.append(entry)
    if refusals:
        decision.outcome, decision.reasons = REFUSE, refusals + blocks
    elif blocks:
        decision.outcome, decision.reasons = BLOCK, blocks
    elif not allowed:
        decision.outcome = REFUSE
        decision.reasons = [{"code": DEFAULT_DENY, "rule": None, "cites": []}]
    decision.binding_limit = _binding_limit(ctx)
    if decision.outcome == ALLOW:
        for rule in fired_rules:
            effects = rule.effects
            for action in effects.charge:
                decision.charges += PRICES[action.name](ctx, **action.resolve(ctx.values))
            for action in effects.notify:
                decision.notifications.append(_notification(ctx, action))
            if effects.transition is not None:
                decision.transition = {"type": effects.transition.name, **effects.transition.resolve(ctx.values)}
            for name in effects.apply:
                decision.changes.append({"change": name, **CHANGES.get(name, _event_fields)(ctx)})
    return decision


def _reason(ctx: Context, code: str, rule, vocabulary) -> dict:
    reason = {"code": code, "rule": rule.id, "cites": list(rule.cites)}
    level = vocabulary["reasons"][code].get("level")
    if level and level in ctx.levels:
        reason["level"] = level
        reason["limit"] = ctx.levels[level].limit
        reason["spend"] = ctx.levels[level].spend
        if level == "seat_type":
            reason["seat_type"] = ctx.fact.get("seat_type")
    if code == "product_not_in_seat":
        reason["product"] = ctx.fact.get("product")
        reason["seat_type"] = ctx.fact.get("seat_type")
    return reason


def _binding_limit(ctx: Context) -> dict | None:
    """L3: of the limits that apply, the one with the least headroom binds."""
    precheck = ctx.event["type"] == "usage_precheck"
    best = None
    for state in ctx.levels.values():
        if state.limit is None:
            continue
        spend = state.spend if precheck else state.spend_after
        headroom = max(state.limit - spend, ZERO)
        if best is None or headroom < best["headroom"]:
            best = {"level": state.level, "limit": state.limit, "spend": spend, "headroom": headroom}
    return best


def _notification(ctx: Context, action) -> dict:
    params = action.resolve(ctx.values)
    state = ctx.levels.get(params.get("level"))
    out = {"type": action.name, **params}
    if state is not None:
        out["spend"] = state.spend_after
        out["limit"] = state.limit
    if ctx.member and params.get("level") == "individual":
        out["member"] = ctx.member.get("id")
    return out


# What each state change carries, for whoever keeps the books. A state change
# of the event table (events.STATE_CHANGES) not named here carries the event's
# own fields.
CHANGES = {
    "record_usage": lambda c: {"member": (c.member or {}).get("id"), "model": c.model, "product": c.event["product"],
                               "cost": c.usage_cost, "billed": c.billed, "included": c.included_part},
    "consume_credits": lambda c: {"amount": c.billed},
    "add_credits": lambda c: {"amount": c.event["amount"]},
    "set_limit": lambda c: {"level": c.event["level"], "limit": c.event["limit"]},
    "reset_period": lambda c: {"period_start": c.values["period_start"]},
    "add_seats": lambda c: {"seat_type": c.target_seat_type, "count": c.event["count"],
                            "hipaa": bool(c.event.get("hipaa"))},
    "remove_seats": lambda c: {"seat_type": c.target_seat_type, "count": c.event["count"]},
    "change_seat_type": lambda c: {"from": c.event["from"], "to": c.event["to"]},
    "start_term": lambda c: {"term_start": c.as_of, "plan": c.values["renewal_plan"] or c.plan.id},
    "issue_invoice": lambda c: {"period_start": _previous_period(c.as_of)},
    "disable_extra_usage": lambda c: {},
    # Limits at levels the plan being moved to has not (the legacy seat-type
    # level): they end with the renewal and stay in the history.
    "end_limits": lambda c: {"levels": [level for level in c.plan.limit_levels
                                        if c.values["renewal_plan"] is not None
                                        and level not in c.policy.plans[c.values["renewal_plan"]].limit_levels]},
}


assert set(CHANGES) <= STATE_CHANGES, "a state change the event table does not declare"


def _event_fields(ctx: Context) -> dict:
    return {k: v for k, v in ctx.event.items() if k != "type"}


def _previous_period(day: date) -> date:
    return add_months(period_start(day), -1)
