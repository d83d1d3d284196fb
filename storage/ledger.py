"""The ledger service: stored state in, the engine's decision, its changes out.

Each operation is one transaction: lock the organization, read what the
engine needs, ask the ``Evaluator``, and, when the decision allows, apply its
``changes`` (and record its charges) before the commit. A refusal changes
nothing and raises ``Refused`` with the decision.

The operations live in mixins by subject (organizations, seats, limits,
credits, usage, billing); this module holds what they share.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Callable

from tariff.engine import Decision, Evaluator
from tariff.engine import periods

from . import repository as repo, views
from .billing import BillingOps
from .credits import CreditOps
from .db import Database
from .errors import Refused
from .models import Charge, Event, Member, Organization, SeatChange, SeatCount
from .organizations import OrganizationOps
from .seats import SeatOps
from .limits import LimitOps
from .summary import SummaryOps
from .usage import UsageOps


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Ledger(OrganizationOps, SeatOps, LimitOps, CreditOps, UsageOps, SummaryOps, BillingOps):
    """``evaluator``: an Evaluator, or a function returning the one to use now
    (the API passes the policy store's active set, which a reload replaces).
    ``clock`` returns the current aware datetime (tests pass a fixed one)."""

    def __init__(self, database: Database, evaluator: Evaluator | Callable[[], Evaluator],
                 clock: Callable[[], datetime] = utc_now):
        self.db = database
        self._evaluator = evaluator
        self.clock = clock

    @property
    def evaluator(self) -> Evaluator:
        return self._evaluator() if callable(self._evaluator) and not isinstance(self._evaluator, Evaluator) \
            else self._evaluator

    # -- shared helpers -------------------------------------------------

    @property
    def policy(self):
        return self.evaluator.policy

    def plan(self, org: Organization):
        return self.policy.plans[org.plan]

    def prepaid(self, org: Organization) -> bool:
        return org.channel in self.plan(org).prepaid_credits

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(timezone.utc)

    def today(self) -> date:
        return self.now().date()

    def decide(self, request: dict) -> Decision:
        """The engine's decision on a request built from stored state (InputError
        when something in it, such as a model or product the caller named, is wrong)."""
        return self.evaluator.decide(request)

    @staticmethod
    def require_allow(decision: Decision) -> None:
        if decision.outcome != "allow":
            raise Refused(decision.to_dict())

    def audit(self, session, org: Organization, decision: Decision, actor: Member | None) -> None:
        session.add(Event(org_pk=org.pk, kind=decision.event, actor_pk=actor.pk if actor else None,
                          as_of=decision.as_of, outcome=decision.outcome,
                          decision=json.dumps(decision.to_dict(), sort_keys=True),
                          request=json.dumps(decision.request_json(), sort_keys=True), created_at=self.now()))

    def record_charges(self, session, org: Organization, decision: Decision, change: SeatChange | None) -> Decimal:
        """Seat charges of an allowed decision (S2, S3, S7), exact; returns their total."""
        total = Decimal(0)
        for line in decision.charges:
            session.add(Charge(org_pk=org.pk, seat_change=change, period_start=periods.period_start(decision.as_of),
                               kind=line.kind, item=line.item, quantity=line.quantity, unit_price=line.unit_price,
                               months=line.months, amount=line.amount, created_at=self.now()))
            total += line.amount
        if change is not None:
            change.charged = total
        return total

    def set_seats(self, session, org: Organization, seat_type: str, delta: int) -> None:
        for row in org.seat_counts:
            if row.seat_type == seat_type:
                row.count += delta
                break
        else:
            org.seat_counts.append(SeatCount(seat_type=seat_type, count=delta))
        org.hipaa_seats = min(org.hipaa_seats, self.hipaa_capacity(org))
        org.updated_at = self.now()

    def hipaa_capacity(self, org: Organization) -> int:
        """HIPAA-ready seats can only be seats of a type that has the add-on (S6)."""
        prices = self.policy.seat_prices.on(org.term_start)
        eligible = set(prices.hipaa_addon_monthly) if prices else set()
        return sum(count for seat_type, count in org.seats.items() if seat_type in eligible)

    def view_org(self, session, org: Organization) -> dict:
        return views.organization(org, self.prepaid(org), repo.assigned_seats(session, org))
