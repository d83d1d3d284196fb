"""Decision requests built from stored state (the shape of the engine's
``RequestSchema``).

The caller of the ledger sends only what happened; everything else the
engine needs (plan, seats, balances, month-to-date spend, limits, the
thresholds already notified) is read here from the ledger.
"""
from __future__ import annotations

from datetime import date

from tariff.engine import money

from . import repository as repo
from .models import Member, Organization


USAGE_EVENTS = ("usage", "usage_precheck")


def request(org: Organization, as_of: date, event: dict, actor: Member | None = None, **parts) -> dict:
    out = {"plan": org.plan, "channel": org.channel, "as_of": as_of,
           "organization": organization(org, seats=event["type"] not in USAGE_EVENTS), "event": event}
    if actor is not None:
        out["member"] = {"id": actor.id, "role": actor.role, "seat_type": actor.seat_type}
    for key, value in parts.items():
        if key == "organization":
            out["organization"].update(value)
        elif value is not None:
            out[key] = value
    return out


def organization(org: Organization, seats: bool = True) -> dict:
    """The organization's facts; seat counts only where the event needs them
    (usage does not: one query less on the hot path)."""
    out = {"id": org.id, "term_start": org.term_start, "hipaa_seats": org.hipaa_seats,
           "extra_usage": org.extra_usage, "credit_balance": org.credit_balance}
    if seats:
        out["seats"] = org.seats
    return out


def level_keys(org: Organization, member: Member) -> dict[str, tuple[str, str]]:
    """The (level, subject) of each level ``member``'s spend counts towards."""
    return {"organization": ("organization", ""), "seat_type": ("seat_type", member.seat_type),
            "individual": ("individual", member.id)}


class SpendState:
    """Month-to-date spend (every level, whatever the plan), and the limits and
    notified thresholds of the levels the plan has, for one member."""

    def __init__(self, session, plan, org: Organization, member: Member, period: date):
        self.keys = level_keys(org, member)
        self.levels = [level for level in plan.limit_levels if level in self.keys]
        wanted = [self.keys[level] for level in self.levels]
        self.limits = repo.limit_rows(session, org, wanted)
        self.notified = repo.notified(session, org, period, wanted)
        self.counters = repo.counters(session, org, period, list(self.keys.values()))
        self.period = period

    def spend(self, level: str):
        counter = self.counters.get(self.keys[level])
        return counter.spend if counter else money.ZERO

    def included(self, level: str):
        counter = self.counters.get(self.keys[level])
        return counter.included if counter else money.ZERO

    def level(self, level: str) -> dict:
        key = self.keys[level]
        out = {"spend": self.spend(level), "notified_pct": self.notified.get(key, 0)}
        limit = repo.limit_value(self.limits.get(key))
        if limit is not None:
            out["limit"] = limit
        return out

    def usage_parts(self, member: Member) -> dict:
        """The organization, seat_type_pool and member parts of a usage request."""
        parts = {"organization": {"spend": self.spend("organization")}}
        if "organization" in self.levels:
            parts["organization"] = self.level("organization")
        if "seat_type" in self.levels:
            parts["seat_type_pool"] = self.level("seat_type")
        member_part = {"id": member.id, "role": member.role, "seat_type": member.seat_type,
                       "spend": self.spend("individual"), "included_used": self.included("individual")}
        if "individual" in self.levels:
            member_part.update(self.level("individual"))
        parts["member"] = member_part
        return parts
