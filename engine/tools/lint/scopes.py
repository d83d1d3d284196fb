"""What a decision of one plan, event type and channel can contain."""
from __future__ import annotations


from ... import facts as F
from ...evaluate.request import SYSTEM_EVENTS, TERM_EVENTS
from .codes import USAGE_EVENTS
from .logic import ALWAYS, MAYBE, Scope


def _facts_provided(plan, event: str, channel: str) -> dict:
    """Which facts context.build_context provides for this plan, event and channel.

    Mirrors engine/context.py (tests/tools check the two agree).
    """
    out = {name: ALWAYS for name in ("event", "plan", "channel", "prepaid", "extra_usage")}
    member = MAYBE if event in SYSTEM_EVENTS else ALWAYS
    out["role"] = out["seat_type"] = member
    out["mid_term"] = ALWAYS if event in TERM_EVENTS else MAYBE
    if event in USAGE_EVENTS:
        out.update({name: ALWAYS for name in ("product", "product_in_seat", "product_on_plan", "usage_cost",
                                              "estimate")})
        if plan.usage == "included_allowance":
            out["included_remaining"] = ALWAYS
        if channel in plan.prepaid_credits:
            out["credit_balance"] = out["credit_after"] = ALWAYS
        sources = {"organization": ALWAYS, "individual": ALWAYS, "seat_type": MAYBE}
        for level in plan.limit_levels:
            for suffix in ("spend", "spend_after", "notified_pct"):
                out[f"{level}_{suffix}"] = sources.get(level, MAYBE)
            out[f"{level}_limit"] = out[f"{level}_pct"] = MAYBE
    elif event == "limit_change":
        out.update(level=ALWAYS, level_available=ALWAYS, new_limit=MAYBE)
    elif event == "credit_purchase":
        out["amount"] = ALWAYS
    elif event in ("seats_added", "seat_removal"):
        out.update(count=ALWAYS, seat_type_on_plan=ALWAYS, hipaa=ALWAYS, hipaa_available=ALWAYS)
    elif event == "seat_type_change":
        out.update(seat_type_on_plan=ALWAYS, upgrade=ALWAYS)
    return out


def _text_domains(vocabulary: dict) -> dict:
    """Every value a text fact can take, from the vocabulary."""
    return {
        "event": frozenset(F.EVENTS),
        "plan": frozenset(vocabulary["plans"]),
        "channel": frozenset(vocabulary["channels"]),
        "role": frozenset(vocabulary["roles"]),
        "seat_type": frozenset(vocabulary["seat_types"]),
        "product": frozenset(vocabulary["products"]),
        "level": frozenset(F.LEVELS),
    }


def _bool_domains() -> dict:
    return {name: frozenset({True, False}) for name, kind in F.FIELDS.items() if kind == F.BOOL}


def plan_scope(vocabulary: dict, plan, event: str, channel: str) -> Scope:
    domains = {**_text_domains(vocabulary), **_bool_domains()}
    products = {p for ps in plan.seat_types.values() for p in ps}
    domains.update({
        "event": frozenset({event}),
        "plan": frozenset({plan.id}),
        "channel": frozenset({channel}),
        "prepaid": frozenset({channel in plan.prepaid_credits}),
        "seat_type": frozenset(plan.seat_types),
        "product_in_seat": frozenset({p in ps for ps in plan.seat_types.values()
                                      for p in vocabulary["products"]}),
        "product_on_plan": frozenset({p in products for p in vocabulary["products"]}),
    })
    if not products:
        domains["product_in_seat"] = frozenset({False})
    return Scope(plan, event, channel, domains, _facts_provided(plan, event, channel))


def generic_scope(vocabulary: dict, events) -> Scope:
    """Any plan: only the tests themselves can contradict each other."""
    domains = {**_text_domains(vocabulary), **_bool_domains(), "event": frozenset(events)}
    return Scope(None, None, None, domains, {name: MAYBE for name in F.FIELDS})
