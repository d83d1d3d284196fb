"""Finding codes and the engine facts about events the checks rely on."""
from __future__ import annotations


from ... import facts as F
from ...findings import ERROR, WARNING
from ...evaluate.request import TERM_EVENTS


# Every finding this module makes: code -> severity.
CODES = {
    # rate card and seat prices
    "entries_out_of_order": WARNING,
    "unknown_retired_model": ERROR,
    "retired_model_repriced": WARNING,
    "long_context_dropped": WARNING,
    "rate_card_gap": ERROR,
    # rules
    "unknown_value": ERROR,
    "contradictory_conditions": ERROR,
    "never_fires": ERROR,
    "never_fires_on_event": WARNING,
    "effects_never_stand": ERROR,
    "conflicting_rules": ERROR,
    "shadowed_rule": WARNING,
    "duplicate_effect": ERROR,
    "effect_not_for_event": ERROR,
    "context_value_unavailable": WARNING,
    # limit hierarchy and renewals
    "unknown_level": ERROR,
    "duplicate_level": ERROR,
    "limit_level_unenforced": ERROR,
    "limit_level_not_on_plan": ERROR,
    "resume_level_not_on_plan": ERROR,
    "renewal_channel": ERROR,
    "missing_renewal_target": ERROR,
    # definitions nothing uses
    "unused_definition": WARNING,
}

USAGE_EVENTS = ("usage", "usage_precheck")

# Effects that only stand when the decision allows (decision.assemble), as named in messages.
ALLOW_DEPENDENT = {"charge": "charges", "notify": "notifications", "transition": "transition",
                   "apply": "state changes"}

# Pricing functions and state changes only make sense for some events: on any
# other they charge nothing, charge for the wrong thing, or fail at run time.
CHARGE_EVENTS = {
    "usage": {"usage"},
    "included_usage": {"usage"},
    "extra_usage": {"usage"},
    "seats_added": {"seats_added"},
    "seat_upgrade": {"seat_type_change"},
    "term_seats": {"renewal"},
}
APPLY_EVENTS = {
    "record_usage": {"usage"},
    "consume_credits": {"usage"},
    "add_credits": {"credit_purchase"},
    "set_limit": {"limit_change"},
    "add_seats": {"seats_added"},
    "remove_seats": {"seat_removal"},
    "change_seat_type": {"seat_type_change"},
}
# Context values that are empty on some events (context._values).
CONTEXT_VALUE_EVENTS = {
    "seat_type_with_product": set(USAGE_EVENTS),
    "renewal_date": TERM_EVENTS,  # needs the term's start, required only for these
}
CONTEXT_VALUE_NEEDS = {
    "seat_type_with_product": "it is the seat type offering the event's product",
    "renewal_date": "it needs organization.term_start, which those requests need not carry",
}

# Lower bounds of numeric facts (in their engine units: nano-USD or whole numbers).
_NON_NEGATIVE = {"estimate", "usage_cost", "included_remaining", "new_limit", "amount"}
for _level in F.LEVELS:
    _NON_NEGATIVE |= {f"{_level}_limit", f"{_level}_spend", f"{_level}_spend_after", f"{_level}_pct",
                      f"{_level}_notified_pct"}
_MINIMUM = {**{name: 0 for name in _NON_NEGATIVE}, "count": 1}
