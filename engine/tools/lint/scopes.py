"""What a decision of one plan, event type and channel can contain: which facts
(the event table says, events.facts_provided) and which values they take."""
from __future__ import annotations


from ... import facts as F
from ...events import EVENTS, facts_provided
from ...vocabulary import LEVELS
from .logic import MAYBE, Scope


def _text_domains(vocabulary: dict) -> dict:
    """Every value a text fact can take, from the vocabulary."""
    return {
        "event": frozenset(EVENTS),
        "plan": frozenset(vocabulary["plans"]),
        "channel": frozenset(vocabulary["channels"]),
        "role": frozenset(vocabulary["roles"]),
        "new_role": frozenset(vocabulary["roles"]),
        "target_role": frozenset(vocabulary["roles"]),
        "seat_type": frozenset(vocabulary["seat_types"]),
        "product": frozenset(vocabulary["products"]),
        "level": frozenset(LEVELS),
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
    return Scope(plan, event, channel, domains, facts_provided(event, plan, channel))


def generic_scope(vocabulary: dict, events) -> Scope:
    """Any plan: only the tests themselves can contradict each other."""
    domains = {**_text_domains(vocabulary), **_bool_domains(), "event": frozenset(events)}
    return Scope(None, None, None, domains, {name: MAYBE for name in F.FIELDS})
