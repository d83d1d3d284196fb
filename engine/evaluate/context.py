"""From a validated request to the facts the rules test.

Everything a condition compares is prepared here, exactly: prices from the
rate card in force on the day, month-to-date spend after this usage, each
limit's use as a whole percentage. What the rules then decide is theirs.

Which facts a decision carries is the event table's (events.py): every
decision's own, the acting member's, the term's, and those of the event
type's fact group, computed by the provider of that name (PROVIDERS). A test
(tests/tools/test_tools_lint_logic.py) holds each provider to its group.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .. import periods
from ..errors import InputError
from ..events import ENDED, EVENT_TYPES, OPEN, EventType
from ..load.policy_set import Plan, PolicySet
from ..load.rate_card import SeatPrices, UnknownModel
from ..money import ZERO, AmountError, to_nano
from ..vocabulary import LEVEL_PARTS, UNLIMITED
from .pricing import price_tokens, total


@dataclass
class LevelState:
    level: str
    limit: Decimal | None  # None: not set or unlimited
    spend: Decimal
    spend_after: Decimal
    notified_pct: int

    @property
    def pct(self) -> int:
        if self.limit is None:
            return 0
        if self.limit == 0:
            return 100
        return int(self.spend_after * 100 // self.limit)


@dataclass
class Context:
    policy: PolicySet
    plan: Plan
    request: dict
    channel: str
    as_of: date
    seat_prices: SeatPrices
    event_type: EventType
    event: dict = field(default_factory=dict)
    organization: dict = field(default_factory=dict)
    member: dict | None = None
    model: str | None = None
    usage_lines: list = field(default_factory=list)
    usage_cost: Decimal = ZERO
    included_part: Decimal = ZERO
    extra_part: Decimal = ZERO
    billed: Decimal = ZERO  # what this usage adds to month-to-date spend
    months_remaining: int | None = None
    target_seat_type: str | None = None
    levels: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # for `$name` in effects
    fact: dict = field(default_factory=dict)


def _fail(path: str, message: str, code: str = "invalid_request"):
    raise InputError.field(code, path, message)


def _channel(plan: Plan, request: dict) -> str:
    channel = request.get("channel")
    if channel is None:
        if len(plan.channels) == 1:
            return plan.channels[0]
        _fail("channel", f"plan {plan.id} is sold on {' and '.join(plan.channels)}: say which")
    if channel not in plan.channels:
        _fail("channel", f"plan {plan.id} is not sold {channel}")
    return channel


def _seat_type(plan: Plan, given: str | None, path: str) -> str:
    """``given``, or the plan's only seat type; an error if neither."""
    seat_type = given or plan.default_seat_type
    if seat_type is None:
        _fail(path, f"plan {plan.id} has seat types {', '.join(plan.seat_types)}: say which")
    return seat_type


def build_context(policy: PolicySet, request: dict) -> Context:
    plan = policy.plans.get(request["plan"])
    if plan is None:
        _fail("plan", f"unknown plan {request['plan']!r}; known: {', '.join(sorted(policy.plans))}", "unknown_plan")
    event = request["event"]
    kind = event["type"]
    if kind not in plan.events:
        _fail("event.type", f"plan {plan.id} does not decide {kind} events", "unsupported_event")
    as_of = request["as_of"]
    prices = policy.seat_prices.on(as_of)
    if prices is None:
        _fail("as_of", f"no seat prices are in force on {as_of.isoformat()}")
    event_type = EVENT_TYPES[kind]
    ctx = Context(policy, plan, request, _channel(plan, request), as_of, prices, event_type, event,
                  request.get("organization") or {}, request.get("member"))
    fact = {"event": kind, "plan": plan.id, "channel": ctx.channel,
            "prepaid": ctx.channel in plan.prepaid_credits,
            "extra_usage": bool(ctx.organization.get("extra_usage"))}
    if ctx.member is not None:
        seat_type = ctx.member.get("seat_type")
        if seat_type is not None and seat_type not in plan.seat_types:
            _fail("member.seat_type", f"{seat_type!r} is not a seat type of plan {plan.id} "
                  f"({', '.join(plan.seat_types)})")
        fact["role"] = ctx.member["role"]
        fact["seat_type"] = _seat_type(plan, seat_type, "member.seat_type")
    _values(ctx)
    if ctx.months_remaining is not None:
        # The term's first day and its renewal day are not mid-term (S4).
        fact["mid_term"] = ctx.as_of != ctx.organization["term_start"] and ctx.months_remaining > 0
    if event_type.facts is not None:
        try:
            PROVIDERS[event_type.facts.name](ctx, fact)
        except AmountError as exc:  # e.g. a usage worth more than the engine's range
            _fail("event", str(exc))
    ctx.fact = fact
    return ctx


def _values(ctx: Context) -> None:
    """The values effects may name (`$renewal_date`, ...), and the term's checks."""
    term_start = ctx.organization.get("term_start")
    ctx.values = {
        "as_of": ctx.as_of,
        "period_start": periods.period_start(ctx.as_of),
        "next_period_start": periods.next_period_start(ctx.as_of),
        "renewal_date": periods.term_end(term_start) if term_start else None,
        "renewal_plan": ctx.plan.renews_to.get(ctx.channel),
        "seat_type_with_product": None,
        "hipaa_seats": ctx.organization.get("hipaa_seats", 0),
        "days_left": ctx.event.get("days_left"),
        "run_out_on": ctx.as_of + timedelta(days=ctx.event["days_left"]) if "days_left" in ctx.event else None,
        "amount": ctx.event.get("amount"),
    }
    if term_start is not None:
        if ctx.as_of < term_start:
            _fail("as_of", f"is before the term's start ({term_start.isoformat()})")
        ctx.months_remaining = periods.months_remaining(ctx.as_of, term_start)
        renewal = ctx.values["renewal_date"]
        if ctx.event_type.term == OPEN and ctx.as_of >= renewal:
            _fail("as_of", f"the term ended on {renewal.isoformat()}: renew it before changing seats")
        if ctx.event_type.term == ENDED and ctx.as_of < renewal:
            _fail("as_of", f"the term renews on {renewal.isoformat()}; a renewal cannot happen before "
                  "(an earlier move goes through sales: early_migration)")
    for seat_type in ctx.organization.get("seats") or {}:
        if seat_type not in ctx.plan.seat_types:
            _fail(f"organization.seats.{seat_type}", f"not a seat type of plan {ctx.plan.id} "
                  f"({', '.join(ctx.plan.seat_types)})")
    product = ctx.event.get("product")
    if product is not None:  # the cheapest seat type that offers it
        offering = [s for s, products in ctx.plan.seat_types.items() if product in products]
        ctx.values["seat_type_with_product"] = min(
            offering, key=lambda s: ctx.seat_prices.monthly.get(s, ZERO)) if offering else None


def _usage(ctx: Context, fact: dict) -> None:
    """The usage and usage_precheck facts: what it costs, who may use it, spend and limits after it."""
    plan, event = ctx.plan, ctx.event
    product = event["product"]
    if product not in ctx.policy.vocabulary["products"]:
        _fail("event.product", f"unknown product {product!r}")
    seat_type = fact["seat_type"]
    fact["product"] = product
    fact["product_in_seat"] = product in plan.seat_types[seat_type]
    fact["product_on_plan"] = any(product in products for products in plan.seat_types.values())
    ctx.model = event.get("model")
    if ctx.model is not None:
        try:
            rates = ctx.policy.rate_card.rates(ctx.model, ctx.as_of)
        except UnknownModel as exc:
            _fail("event.model", str(exc), "unknown_model")
        if event["type"] == "usage":
            ctx.usage_lines = price_tokens(ctx.model, rates, event["tokens"])
            ctx.usage_cost = total(ctx.usage_lines)
    added = ctx.usage_cost if event["type"] == "usage" else event.get("estimate", ZERO)
    fact["usage_cost"] = to_nano(ctx.usage_cost)
    fact["estimate"] = to_nano(event.get("estimate", ZERO))
    if plan.usage == "included_allowance":
        if "included_used" not in (ctx.member or {}):
            _fail("member.included_used", "usage drawn from the seat's allowance this month is needed on this plan")
        allowance = ctx.seat_prices.included_usage_monthly[seat_type]
        remaining = max(allowance - ctx.member["included_used"], ZERO)
        fact["included_remaining"] = to_nano(remaining)
        ctx.included_part = min(ctx.usage_cost, remaining)
        ctx.extra_part = ctx.usage_cost - ctx.included_part
        ctx.billed = ctx.extra_part if fact["extra_usage"] else ZERO
        if event["type"] == "usage_precheck":
            added = max(added - remaining, ZERO)
    else:
        ctx.billed = ctx.usage_cost
    if fact["prepaid"]:
        if "credit_balance" not in ctx.organization:
            _fail("organization.credit_balance", "the credit balance is needed on a prepaid plan")
        balance = ctx.organization["credit_balance"]
        fact["credit_balance"] = to_nano(balance)
        fact["credit_after"] = to_nano(balance - added)
    for level in plan.limit_levels:
        source = ctx.request.get(LEVEL_PARTS[level])
        if source is None:
            continue
        limit = source.get("limit")
        state = LevelState(level, None if limit in (None, UNLIMITED) else limit, source.get("spend", ZERO),
                           source.get("spend", ZERO) + (added if event["type"] == "usage_precheck" else ctx.billed),
                           source.get("notified_pct", 0))
        ctx.levels[level] = state
        fact[f"{level}_spend"] = to_nano(state.spend)
        fact[f"{level}_spend_after"] = to_nano(state.spend_after)
        fact[f"{level}_notified_pct"] = state.notified_pct
        if state.limit is not None:
            fact[f"{level}_limit"] = to_nano(state.limit)
            fact[f"{level}_pct"] = state.pct


def _limit_change(ctx: Context, fact: dict) -> None:
    event = ctx.event
    fact["level"] = event["level"]
    fact["level_available"] = event["level"] in ctx.plan.limit_levels
    if event["limit"] != UNLIMITED:
        fact["new_limit"] = to_nano(event["limit"])


def _credit_purchase(ctx: Context, fact: dict) -> None:
    fact["amount"] = to_nano(ctx.event["amount"])
    fact["automatic"] = bool(ctx.event.get("automatic"))


def _seats(ctx: Context, fact: dict) -> None:
    """Seats added or removed, of the seat type said or the plan's only one."""
    event, plan = ctx.event, ctx.plan
    seat_type = _seat_type(plan, event.get("seat_type"), "event.seat_type")
    ctx.target_seat_type = seat_type
    held = (ctx.organization.get("seats") or {}).get(seat_type)
    if event["type"] == "seat_removal" and held is not None and event["count"] > held:
        _fail("event.count", f"the organization holds {held} {seat_type} seats; it cannot remove {event['count']}")
    fact["count"] = event["count"]
    fact["seat_type_on_plan"] = seat_type in plan.seat_types
    fact["hipaa"] = bool(event.get("hipaa"))
    fact["hipaa_available"] = seat_type in ctx.seat_prices.hipaa_addon_monthly


def _seat_type_change(ctx: Context, fact: dict) -> None:
    event, plan = ctx.event, ctx.plan
    ctx.target_seat_type = event["to"]
    on_plan = event["to"] in plan.seat_types and event["from"] in plan.seat_types
    fact["seat_type_on_plan"] = on_plan
    prices = ctx.seat_prices.monthly
    fact["upgrade"] = on_plan and prices[event["to"]] > prices[event["from"]]


# Each fact group of the event table (events.py), by name: the function that computes its facts.
def _renewal(ctx: Context, fact: dict) -> None:
    fact["hipaa_seats"] = ctx.organization.get("hipaa_seats", 0)


def _membership(ctx: Context, fact: dict) -> None:
    for name in ("new_role", "target_role"):
        if name in ctx.event:
            fact[name] = ctx.event[name]


def _credits_forecast(ctx: Context, fact: dict) -> None:
    fact["credits_days_left"] = ctx.event["days_left"]


def _limit_forecast(ctx: Context, fact: dict) -> None:
    fact["level"] = ctx.event["level"]
    fact["limit_days_left"] = ctx.event["days_left"]


PROVIDERS = {"usage": _usage, "limit_change": _limit_change, "credit_purchase": _credit_purchase, "seats": _seats,
             "seat_type_change": _seat_type_change, "membership": _membership,
             "renewal": _renewal, "credits_forecast": _credits_forecast,
             "limit_forecast": _limit_forecast}
