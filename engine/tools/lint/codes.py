"""Finding codes, and what the checks read of the event table."""
from __future__ import annotations


from ...events import CHARGES, EVENT_TYPES, STATE_CHANGES, applied_on, charged_on
from ...facts import CONTEXT_VALUES
from ...findings import ERROR, WARNING
from ...vocabulary import LEVELS


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

# Effects that only stand when the decision allows (decision.assemble), as named in messages.
ALLOW_DEPENDENT = {"charge": "charges", "notify": "notifications", "transition": "transition",
                   "apply": "state changes"}

# Pricing functions and state changes only make sense for some events (the
# event table says which): on any other they charge nothing, charge for the
# wrong thing, or fail at run time.
CHARGE_EVENTS = {name: charged_on(name) for name in CHARGES}
APPLY_EVENTS = {name: applied_on(name) for name in STATE_CHANGES if applied_on(name) is not None}
# Context values that may be empty: the events on which they are known for
# sure (those whose requests always carry what they need), and why.
CONTEXT_VALUE_EVENTS = {name: {e.name for e in EVENT_TYPES.values() if e.knows(needs)}
                        for name, needs in CONTEXT_VALUES.items() if needs is not None}
CONTEXT_VALUE_NEEDS = {
    "seat_type_with_product": "it is the seat type offering the event's product",
    "renewal_date": "it needs organization.term_start, which those requests need not carry",
}

# Lower bounds of numeric facts (in their engine units: nano-USD or whole numbers).
_NON_NEGATIVE = {"estimate", "usage_cost", "included_remaining", "new_limit", "amount"}
for _level in LEVELS:
    _NON_NEGATIVE |= {f"{_level}_limit", f"{_level}_spend", f"{_level}_spend_after", f"{_level}_pct",
                      f"{_level}_notified_pct"}
_MINIMUM = {**{name: 0 for name in _NON_NEGATIVE}, "count": 1, "credits_days_left": 1, "limit_days_left": 1}
