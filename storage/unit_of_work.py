"""The unit of work every ledger operation runs in: one transaction, with
what every operation shares — the time it runs at, the policy set in force,
and the steps of applying a decision (lock the organization, decide, audit,
record charges, move seat counts).

    books = Books(database, evaluator, clock)
    with books.write() as uow:             # the organization's lock is taken by lock_org
        org = uow.lock_org("acme")
        who = uow.actor(org, "pat")
        decision = uow.decide(requests.request(org, uow.today, {"type": "limit_change", ...}, who))
        uow.require_allow(decision)        # Refused: nothing is kept
        ...                                # apply decision.changes through uow.session
        uow.audit(org, decision, who)      # committed when the block ends

``uow.session`` is the SQLAlchemy session: an operation runs its own
statements through it. The usage path runs Core statements on a Core unit
(``books.write(core=True)``: ``uow.connection()``), where a session is made
only if something asks for one (the outbox's blocks, notifications, an
automatic top-up), in the same transaction.
The evaluator and the time are fixed when the unit starts, so one operation
decides under one policy set even if a reload lands meanwhile.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Callable, Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tariff.engine import Decision, Evaluator, periods

from . import repository as repo, requests, views
from .db import Database
from .errors import Refused
from .models import Charge, Event, Member, Organization, SeatChange, SeatCount
from .webhooks import outbox


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Books:
    """The database, the evaluator and the clock the ledger keeps its books with.

    ``evaluator``: an Evaluator, or a function returning the one to use now
    (the API passes the policy store's active set, which a reload replaces).
    ``clock`` returns the current aware datetime (tests pass a fixed one).
    """

    def __init__(self, database: Database, evaluator: Evaluator | Callable[[], Evaluator],
                 clock: Callable[[], datetime] = utc_now):
        self.db = database
        self._evaluator = evaluator
        self.clock = clock

    @property
    def evaluator(self) -> Evaluator:
        return self._evaluator if isinstance(self._evaluator, Evaluator) else self._evaluator()

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(timezone.utc)

    def write(self, core: bool = False):
        """A read-write unit: committed when the block ends, rolled back on any error.
        ``core``: on a Core connection; an ORM session joins it only if asked for
        (``UnitOfWork.session``): the usage path's statements are Core, and a session
        costs about 60 us a transaction (bench/ledger.py)."""
        return self._unit(self.db.write, self.db.write_connection, core, commit=True)

    def read(self, core: bool = False):
        """A read-only unit on one consistent snapshot (``core``: as ``write``'s)."""
        return self._unit(self.db.read, self.db.read_connection, core, commit=False)

    @contextmanager
    def _unit(self, with_session, with_connection, core: bool, commit: bool) -> Iterator[UnitOfWork]:
        """A unit on a session (``with_session``), or on a Core connection: then the session
        made in it, if any, is committed first (``commit``: flushed, the outbox's hooks run;
        the connection commits next, never the session) and closed, and a pipeline left
        open for the commit (UnitOfWork.commit_in) carries the COMMIT."""
        evaluator, now = self.evaluator, self.now()
        if not core:
            with with_session() as session:
                yield UnitOfWork(session, evaluator, now)
            return
        with with_connection() as connection:
            uow = UnitOfWork(None, evaluator, now, connection)
            try:
                yield uow
                if uow.pipeline is not None and uow.joined is not None:
                    uow.pipeline.close()  # the session's statements must not meet a pipeline
                if commit and uow.joined is not None:
                    uow.joined.commit()
                if commit and uow.pipeline is not None and uow.pipeline.is_open:
                    uow.pipeline.commit()  # COMMIT sent after the writes, then one wait for all
                    connection.commit()  # SQLAlchemy's end of it: the driver has nothing left to send
            except BaseException as exc:
                if uow.pipeline is not None:
                    uow.pipeline.close(exc)
                raise
            finally:
                if uow.joined is not None:
                    uow.joined.close()


class UnitOfWork:
    """One open transaction and the helpers every operation shares."""

    def __init__(self, session: Session | None, evaluator: Evaluator, now: datetime,
                 connection: Connection | None = None):
        self._session = session
        self._connection = connection  # a Core unit's (Books.write(core=True)), else None
        self.joined: Session | None = None  # the session made for a Core unit, once asked for
        self.pipeline = None  # a pipeline held open for the commit (commit_in), PostgreSQL
        self.evaluator = evaluator
        self.now = now
        self.today: date = now.date()

    @property
    def session(self) -> Session:
        """The unit's ORM session; in a Core unit, made when first asked for, in the
        connection's transaction (it never commits it: the unit does)."""
        if self._session is None:
            self._session = self.joined = Session(bind=self._connection, expire_on_commit=False)
        return self._session

    def commit_in(self, held) -> bool:
        """Whether the unit takes ``held`` (a direct.HeldPipeline with the writes sent,
        not waited for) and sends its COMMIT in it: one round trip for the writes and the
        commit, whose errors are raised at the commit. A Core unit only."""
        if self._connection is None:
            return False
        self.pipeline = held
        return True

    def connection(self) -> Connection:
        """The unit's connection (for Core statements), without making a session."""
        return self._connection if self._connection is not None else self._session.connection()

    # -- the policy in force ---------------------------------------------

    @property
    def policy(self):
        return self.evaluator.policy

    def plan(self, org: Organization):
        return self.policy.plans[org.plan]

    def prepaid(self, org: Organization) -> bool:
        return org.channel in self.plan(org).prepaid_credits

    def decide(self, request: dict) -> Decision:
        """The engine's decision on a request built from stored state (InputError
        when something in it, such as a model or product the caller named, is wrong)."""
        decision = self.evaluator.decide(request)
        if outbox.reported(decision):  # a blocked usage is reported to webhooks
            outbox.decided(self.session, decision, self.now)
        return decision

    @staticmethod
    def require_allow(decision: Decision) -> Decision:
        if decision.outcome != "allow":
            raise Refused(decision)
        return decision

    def permit(self, org: Organization, who: Member, event: dict) -> Decision:
        """A change the policy allows by the acting member's role (members,
        settings: policies/rules/members.yaml), audited; Refused otherwise."""
        decision = self.require_allow(self.decide(requests.request(org, self.today, event, who)))
        self.audit(org, decision, who)
        return decision

    # -- reading who and what ----------------------------------------------

    def lock_org(self, org_id: str) -> Organization:
        """The organization, locked until the unit ends (every change to it)."""
        return repo.lock_org(self.session, org_id)

    def acting(self, org_id: str, actor: str) -> tuple[Organization, Member]:
        """The organization, locked, and the member acting on it (every change a member makes)."""
        org = self.lock_org(org_id)
        return org, self.actor(org, actor)

    def org(self, org_id: str) -> Organization:
        """The organization, unlocked (reads)."""
        return repo.get_org(self.session, org_id)

    def actor(self, org: Organization, member_id: str) -> Member:
        """The member acting, whose role the policy checks."""
        return repo.actor(self.session, org, member_id)

    def member(self, org: Organization, member_id: str, *, removed: bool = False) -> Member:
        """A current member (409 member_removed for a removed one); with
        ``removed``, a removed member too (reading their history)."""
        if removed:
            return repo.get_member(self.session, org, member_id)
        return repo.current_member(self.session, org, member_id)

    # -- applying a decision ---------------------------------------------------

    def audit(self, org: Organization, decision: Decision, actor: Member | None) -> None:
        """Keep the applied decision and the request it was made from (replays, tariff diff --ledger),
        with who called (storage/caller.py: the key) and the decision's id in the decision log, if any."""
        from . import caller
        key_id, key_name = caller.key()
        decided = decision.to_dict()
        if getattr(decision, "decision_id", None):  # set by whoever logged it (api/observed.py)
            decided["decision_id"] = decision.decision_id
        self.session.add(Event(org_pk=org.pk, kind=decision.event, actor_pk=actor.pk if actor else None,
                               as_of=decision.as_of, outcome=decision.outcome,
                               decision=json.dumps(decided, sort_keys=True),
                               request=json.dumps(decision.request_json(), sort_keys=True), created_at=self.now,
                               key_id=key_id, key_name=key_name))

    def record_charges(self, org: Organization, decision: Decision, change: SeatChange | None) -> Decimal:
        """Seat charges of an allowed decision (S2, S3, S7), exact; returns their total."""
        total = Decimal(0)
        for line in decision.charges:
            self.session.add(Charge(org_pk=org.pk, seat_change=change,
                                    period_start=periods.period_start(decision.as_of), kind=line.kind,
                                    item=line.item, quantity=line.quantity, unit_price=line.unit_price,
                                    months=line.months, amount=line.amount, created_at=self.now))
            total += line.amount
        if change is not None:
            change.charged = total
        return total

    def set_seats(self, org: Organization, seat_type: str, delta: int) -> None:
        for row in org.seat_counts:
            if row.seat_type == seat_type:
                row.count += delta
                break
        else:
            org.seat_counts.append(SeatCount(seat_type=seat_type, count=delta))
        org.hipaa_seats = min(org.hipaa_seats, self.hipaa_capacity(org))
        org.updated_at = self.now

    def hipaa_capacity(self, org: Organization) -> int:
        """HIPAA-ready seats can only be seats of a type that has the add-on (S6)."""
        prices = self.policy.seat_prices.on(org.term_start)
        eligible = set(prices.hipaa_addon_monthly) if prices else set()
        return sum(count for seat_type, count in org.seats.items() if seat_type in eligible)

    # -- answers -----------------------------------------------------------------

    def view_org(self, org: Organization) -> dict:
        return views.organization(org, self.prepaid(org), repo.assigned_seats(self.session, org))

    def balance(self, org: Organization) -> str | None:
        """The credit balance as answered: on prepaid plans only."""
        return views.money(org.credit_balance) if self.prepaid(org) else None
