"""The facts a rule's conditions can test: one flat record per decision.

This table is the contract between policy authors and the engine: `tariff
validate` refuses a condition on a field not listed here or a literal of the
wrong type. Money fields hold whole nano-dollars inside the engine (see
money.py); in YAML they are written in USD. Which facts a decision of each
event type carries is in events.py.
"""
from __future__ import annotations

from .vocabulary import LEVELS

STR, BOOL, INT, MONEY, PCT = "text", "boolean", "integer", "money", "percent"

FIELDS: dict[str, str] = {
    "event": STR,
    "plan": STR,
    "channel": STR,
    "role": STR,
    "seat_type": STR,
    "product": STR,
    "product_in_seat": BOOL,
    "product_on_plan": BOOL,
    "prepaid": BOOL,
    "mid_term": BOOL,
    "credit_balance": MONEY,
    "credit_after": MONEY,
    "estimate": MONEY,
    "usage_cost": MONEY,
    "extra_usage": BOOL,
    "included_remaining": MONEY,
    # event details
    "level": STR,
    "level_available": BOOL,
    "new_limit": MONEY,
    "amount": MONEY,
    "count": INT,
    "hipaa": BOOL,
    "hipaa_available": BOOL,
    "seat_type_on_plan": BOOL,
    "upgrade": BOOL,
    "new_role": STR,  # the role a member is given
    "target_role": STR,  # the role the member acted on holds now
    "hipaa_seats": INT,  # HIPAA-ready seats held (S6)
    "automatic": BOOL,  # a credit purchase an automatic top-up made (D18)
    "credits_days_left": INT,  # days until credits run out at the period's rate (credits_forecast)
    "limit_days_left": INT,  # days until the limit of `level` is reached at that rate (limit_forecast)
}
for _level in LEVELS:
    FIELDS[f"{_level}_limit"] = MONEY  # absent when not set or "unlimited"
    FIELDS[f"{_level}_spend"] = MONEY  # month-to-date, before this event
    FIELDS[f"{_level}_spend_after"] = MONEY  # plus this usage, or the estimate
    FIELDS[f"{_level}_pct"] = PCT  # spend_after as a whole percentage of the limit
    FIELDS[f"{_level}_notified_pct"] = PCT  # highest threshold already sent this period

# Values a rule's effects may take from the decision's context with `$name`,
# and the part of the request each one needs (None: always known).
CONTEXT_VALUES: dict[str, str | None] = {
    "as_of": None,
    "period_start": None,
    "next_period_start": None,
    "renewal_date": "organization.term_start",
    "renewal_plan": None,
    "seat_type_with_product": "event.product",
    "hipaa_seats": None,
    # A forecast's (credits_forecast, limit_forecast): the days left, and the day it runs out (as_of + days).
    "days_left": "event.days_left",
    "run_out_on": "event.days_left",
    # A credit purchase's (an automatic top-up's notice, D18): what it bought.
    "amount": "event.amount",
}
