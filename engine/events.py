"""The event table: for each event type, in one place, what it takes and what it gives.

An entry says which fields the request's event carries (required and
optional, each with its kind), what else the request must carry to be
decided (an acting member, the term, month-to-date spend), which facts the
rules can test (always, or maybe), and which charges and state changes its
rules may make. The request schema (evaluate/request.py) builds its
per-event schemas and its cross-field checks from it, the context builder
(evaluate/context.py) runs the fact group it names and the term checks it
asks for, and lint (tools/lint/) reads which facts, charges and state
changes each event can have. Nothing else declares any of it.

A new event type is one entry here plus rules in YAML: deciding who may add
a member by the acting member's role, say,

    EventType("member_add", required={"member_id": TEXT}, optional={"role": ROLE}, changes=("add_member",)),

with a rule `on: [member_add]`, `when: {role: {in: [primary_owner, owner, admin]}}`,
`then: {allow: true, apply: [add_member]}`. A state change no one has
defined a payload for carries the event's own fields (evaluate/decision.py).
Python is needed only for what is new in kind: a fact (facts.FIELDS and its
fact group's provider in evaluate/context.py), a field kind
(evaluate/request.py), a pricing function (evaluate/pricing.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .vocabulary import LEVEL_PARTS

# Kinds of event fields (their marshmallow fields: evaluate/request.py).
TEXT, MODEL, TOKENS, MONEY, AMOUNT, COUNT, FLAG, LEVEL, LIMIT, ROLE = (
    "text", "model", "tokens", "money", "amount", "count", "flag", "level", "limit", "role")

# How surely a decision carries a fact. ON_PREPAID: always on the plan's
# prepaid channels, never on others. ON_ALLOWANCE: always on plans with
# included usage, never on others. A fact written "{level}_..." is one fact
# per limit level of the plan; SPEND there is always where the event needs
# that level's spend (needs), else maybe.
ALWAYS, MAYBE = "always", "maybe"
ON_PREPAID, ON_ALLOWANCE, SPEND = "on prepaid channels", "on included-usage plans", "where its spend is needed"

# Facts every decision carries; the acting member's (always where the event
# has one, else maybe); the term's (always where the event needs the term).
EVERY_EVENT = ("event", "plan", "channel", "prepaid", "extra_usage")
MEMBER_FACTS = ("role", "seat_type")
TERM_FACTS = ("mid_term",)

# When in the term an event may happen (None: no term needed).
ANY_DAY, OPEN, ENDED = "any day of the term", "before the renewal date", "on or after the renewal date"


@dataclass(frozen=True)
class FactGroup:
    """Facts computed together, by the provider of the same name in evaluate/context.py."""
    name: str
    facts: dict  # fact (or "{level}_..." pattern) -> presence


USAGE = FactGroup("usage", {
    "product": ALWAYS, "product_in_seat": ALWAYS, "product_on_plan": ALWAYS, "usage_cost": ALWAYS,
    "estimate": ALWAYS, "included_remaining": ON_ALLOWANCE, "credit_balance": ON_PREPAID, "credit_after": ON_PREPAID,
    "{level}_spend": SPEND, "{level}_spend_after": SPEND, "{level}_notified_pct": SPEND,
    "{level}_limit": MAYBE, "{level}_pct": MAYBE,
})
LIMIT_CHANGE = FactGroup("limit_change", {"level": ALWAYS, "level_available": ALWAYS, "new_limit": MAYBE})
CREDIT_PURCHASE = FactGroup("credit_purchase", {"amount": ALWAYS, "automatic": ALWAYS})
SEATS = FactGroup("seats", {"count": ALWAYS, "seat_type_on_plan": ALWAYS, "hipaa": ALWAYS, "hipaa_available": ALWAYS})
SEAT_TYPE_CHANGE = FactGroup("seat_type_change", {"seat_type_on_plan": ALWAYS, "upgrade": ALWAYS})
# Membership: the role a member is given (new_role) and the role the member
# acted on holds now (target_role), beside the acting member's own `role`.
# A renewal: compliance properties the organization holds, which a move to another seat may end.
RENEWAL = FactGroup("renewal", {"hipaa_seats": ALWAYS})
MEMBER_ADD = FactGroup("membership", {"new_role": ALWAYS})
MEMBER_ROLE_CHANGE = FactGroup("membership", {"new_role": ALWAYS, "target_role": ALWAYS})
MEMBER_TARGET = FactGroup("membership", {"target_role": ALWAYS})
# Where a prepaid balance is heading: the days until credits run out at the
# period's rate so far, as the ledger's projection forecasts them.
CREDITS_FORECAST = FactGroup("credits_forecast", {"credits_days_left": ALWAYS})
# Where a limit's spend is heading: the days until it is reached this period.
LIMIT_FORECAST = FactGroup("limit_forecast", {"level": ALWAYS, "limit_days_left": ALWAYS})


@dataclass(frozen=True)
class EventType:
    name: str
    required: dict = field(default_factory=dict)  # event field -> kind
    optional: dict = field(default_factory=dict)
    acting_member: bool = True  # decided for a member: their role and seat type are facts
    needs: tuple = ()  # other request values it cannot be decided without ("part.field")
    term: str | None = None  # ANY_DAY, OPEN or ENDED: organization.term_start is needed
    facts: FactGroup | None = None  # the facts it adds to every decision's
    charges: tuple = ()  # pricing functions its rules may charge (CHARGES)
    changes: tuple = ()  # state changes its rules may apply, besides CHANGES_ON_ANY_EVENT

    @property
    def fields(self) -> dict:
        return {**self.required, **self.optional}

    @property
    def needed(self) -> tuple:
        """Every request value it needs ("organization.term_start", ...), the term first."""
        return (("organization.term_start",) if self.term else ()) + self.needs

    def knows(self, path: str) -> bool:
        """Whether every request of this type carries ``path`` ("event.product", "organization.term_start")."""
        part, _, name = path.partition(".")
        return name in self.required if part == "event" else path in self.needed


def _table(*types: EventType) -> dict[str, EventType]:
    kinds: dict = {}
    for event in types:
        for name, kind in event.fields.items():  # a field means one thing on every event that has it
            assert kinds.setdefault(name, kind) == kind, f"event field {name!r} is {kinds[name]} and {kind}"
    return {event.name: event for event in types}


_USAGE_NEEDS = ("organization.spend", "member.spend")

EVENT_TYPES = _table(
    EventType("usage_precheck", required={"product": TEXT}, optional={"estimate": MONEY, "model": MODEL},
              needs=_USAGE_NEEDS, facts=USAGE),
    EventType("usage", required={"product": TEXT, "model": MODEL, "tokens": TOKENS}, needs=_USAGE_NEEDS,
              facts=USAGE, charges=("usage", "included_usage", "extra_usage"),
              changes=("record_usage", "consume_credits")),
    EventType("seats_added", required={"count": COUNT}, optional={"seat_type": TEXT, "hipaa": FLAG}, term=OPEN,
              facts=SEATS, charges=("seats_added",), changes=("add_seats",)),
    EventType("seat_removal", required={"count": COUNT}, optional={"seat_type": TEXT}, term=ANY_DAY, facts=SEATS,
              changes=("remove_seats",)),
    EventType("seat_type_change", required={"from": TEXT, "to": TEXT}, term=OPEN, facts=SEAT_TYPE_CHANGE,
              charges=("seat_upgrade",), changes=("change_seat_type",)),
    EventType("limit_change", required={"level": LEVEL, "limit": LIMIT}, facts=LIMIT_CHANGE, changes=("set_limit",)),
    # ``automatic``: bought by an automatic top-up (storage/top_ups.py), in the name of the owner who set it.
    EventType("credit_purchase", required={"amount": AMOUNT}, optional={"automatic": FLAG}, facts=CREDIT_PURCHASE,
              changes=("add_credits",)),
    # An automatic top-up set, changed or ended: "when the balance falls below
    # X, buy `amount`". Each purchase it makes is a credit_purchase in turn.
    EventType("auto_top_up_change", required={"amount": AMOUNT}, facts=CREDIT_PURCHASE,
              changes=("set_auto_top_up",)),
    EventType("disable_usage_billing"),
    EventType("period_start", acting_member=False, charges=("period_seats",)),
    EventType("renewal", acting_member=False, term=ENDED, needs=("organization.seats",), facts=RENEWAL,
              charges=("term_seats",), changes=("end_limits",)),
    EventType("early_migration"),
    # The daily billing run's forecast for a prepaid organization (issue 13,
    # item 4): credits run out in `days_left` days at the period's rate so far.
    # The ledger sends it only when there is such a day (spend this period,
    # credits left); what is said about it, and when, is the rules'.
    EventType("credits_forecast", required={"days_left": COUNT}, acting_member=False, facts=CREDITS_FORECAST),
    # Likewise for a limit reached this period at that rate (the daily run: the organization's).
    EventType("limit_forecast", required={"level": LEVEL, "days_left": COUNT}, acting_member=False,
              facts=LIMIT_FORECAST),
    # Who may do what to members and settings: decided on the acting member's role.
    EventType("member_add", required={"new_role": ROLE}, facts=MEMBER_ADD, changes=("add_member",)),
    EventType("member_role_change", required={"new_role": ROLE, "target_role": ROLE}, facts=MEMBER_ROLE_CHANGE,
              changes=("change_role",)),
    EventType("member_removal", required={"target_role": ROLE}, facts=MEMBER_TARGET, changes=("remove_member",)),
    EventType("owner_transfer", required={"target_role": ROLE}, facts=MEMBER_TARGET,
              changes=("transfer_primary_owner",)),
    EventType("organization_rename", changes=("rename_organization",)),
    EventType("enable_extra_usage", changes=("enable_extra_usage",)),
    EventType("seat_change_cancel", changes=("cancel_seat_change",)),
)
EVENTS = tuple(EVENT_TYPES)

# Pricing functions a rule may `charge:`, with the parameters each takes (evaluate/pricing.py prices them).
CHARGES = {"usage": (), "included_usage": (), "extra_usage": (), "seats_added": ("prorate",),
           "seat_upgrade": ("prorate",), "term_seats": ("as_seat_type",), "period_seats": ()}
# `prorate:` of seats_added and seat_upgrade: for the months left in the annual
# term (the default; S3), or for the current billing period only (seats billed
# monthly, P1).
PRORATE = ("term", "period")
# State changes that close a period or a term, or switch a setting: any event's rules may make them.
CHANGES_ON_ANY_EVENT = ("reset_period", "issue_invoice", "start_term", "disable_extra_usage")
STATE_CHANGES = frozenset(CHANGES_ON_ANY_EVENT).union(*(e.changes for e in EVENT_TYPES.values()))
assert set().union(*(e.charges for e in EVENT_TYPES.values())) <= set(CHARGES)


def charged_on(charge: str) -> set[str]:
    """The event types whose rules may make ``charge``."""
    return {e.name for e in EVENT_TYPES.values() if charge in e.charges}


def applied_on(change: str) -> set[str] | None:
    """The event types whose rules may apply ``change``; None: any."""
    return None if change in CHANGES_ON_ANY_EVENT else {e.name for e in EVENT_TYPES.values() if change in e.changes}


def facts_provided(kind: str, plan, channel: str) -> dict[str, str]:
    """The facts a decision of event type ``kind`` on ``plan`` and ``channel`` carries:
    fact -> ALWAYS or MAYBE; a fact not in it is never provided."""
    event = EVENT_TYPES[kind]
    out = dict.fromkeys(EVERY_EVENT, ALWAYS)
    out.update(dict.fromkeys(MEMBER_FACTS, ALWAYS if event.acting_member else MAYBE))
    out.update(dict.fromkeys(TERM_FACTS, ALWAYS if event.term else MAYBE))
    for name, presence in (event.facts.facts if event.facts else {}).items():
        if "{level}" in name:
            for level in plan.limit_levels:
                needed = f"{LEVEL_PARTS[level]}.spend" in event.needed
                out[name.format(level=level)] = ALWAYS if presence == SPEND and needed else MAYBE
        elif presence == ON_PREPAID:
            if channel in plan.prepaid_credits:
                out[name] = ALWAYS
        elif presence == ON_ALLOWANCE:
            if plan.usage == "included_allowance":
                out[name] = ALWAYS
        else:
            out[name] = presence
    return out
