"""The outbox: every notification, block and transition becomes an event row,
with one delivery row per endpoint that wants it, in the same transaction as
the change it reports (a rolled-back change sends nothing; a committed one is
never lost). No ledger module calls this: SQLAlchemy session events watch
what the ledger writes.

- ``Notification`` rows (spend thresholds, M3) -> ``notification.spend_threshold``;
  the daily forecast's (storage/forecast.py, D17) -> ``notification.credits_running_out``,
  ``notification.spend_limit_running_out``; an automatic top-up's (storage/top_ups.py,
  D18) -> ``notification.credits_topped_up``;
- ``Event`` rows (the audit of every applied decision other than usage): the
  decision's notifications (``notification.hipaa_addon_dropped``) and its
  transition (``transition.period_reset``, ``transition.term_renewed``,
  ``transition.move_to_enterprise_seat``);
- blocked usage (``block.<reason code>``): nothing is written when usage is
  blocked, so ``UnitOfWork.decide`` hands each blocked usage decision to
  ``decided``, and the event is written when that unit commits. A block is
  reported once per state (period, reason, level, subject, limit; for
  credits, the last purchase), not for every request it refuses.

Rows are read after a flush (they have their ids then) and the outbox rows
are added once the flush is over; the commit's own flush writes them. With no
endpoint for the organization, nothing is written (no cost on the usage path
but one indexed query per notable row).

Rows inserted with Core statements are not seen by session events: the
usage path's Core insert of notifications (storage/lean.py) calls
``notified`` with its rows. tests/ledger/test_ledger_webhooks.py checks each
path that notifies.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime

from sqlalchemy import event as sa_event, func, or_, select
from sqlalchemy.orm import Session

from tariff.engine import Decision, periods

from .. import repository as repo, views
from ..models import (CreditEntry, Event, Member, Notification, Organization, WebhookDelivery, WebhookEndpoint,
                      WebhookEvent)

CATEGORIES = ("notification", "block", "transition")
USAGE_EVENTS = ("usage", "usage_precheck")
_FLUSHED = "tariff.webhooks.flushed"
_BLOCKS = "tariff.webhooks.blocks"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def wants(filters: list[str] | None, event_type: str) -> bool:
    """Whether an endpoint with ``filters`` (categories or full types; None: all) wants ``event_type``."""
    return filters is None or event_type in filters or event_type.split(".", 1)[0] in filters


# Notices the ledger keeps as Notification rows: reported from the row (with its
# id, as GET .../notifications lists it), never a second time from the audited
# decision that asked for them.
KEPT_AS_ROWS = ("spend_threshold", "credits_running_out", "spend_limit_running_out", "credits_topped_up")


def reported(decision: Decision) -> bool:
    """Whether a decision is reported by itself (``decided``): a blocked usage."""
    return decision.outcome == "block" and decision.event in USAGE_EVENTS


def decided(session: Session, decision: Decision, now: datetime) -> None:
    """A decision made in this unit of work: a blocked usage is reported when the unit commits."""
    if reported(decision):
        session.info.setdefault(_BLOCKS, []).append((decision, now))


def notified(session: Session, rows: list[dict]) -> None:
    """Spend notifications written with Core (``rows``: the inserted values,
    without their pk): reported like the ORM's, each id read back by the
    row's unique key, and only when the organization has an endpoint."""
    with session.no_autoflush:
        for row in rows:
            if not _endpoints(session, row["org_pk"]):
                continue
            note = Notification(**row)
            note.pk = session.execute(select(Notification.pk).where(
                Notification.org_pk == note.org_pk, Notification.period_start == note.period_start,
                Notification.level == note.level, Notification.subject == note.subject,
                Notification.threshold_pct == note.threshold_pct)).scalar()
            for org_pk, event_type, data, created_at in _reported(session, note):
                _write(session, org_pk, event_type, data, created_at)


# -- the session events ----------------------------------------------------------------

def _after_flush(session: Session, _context) -> None:
    notable = [obj for obj in session.new if isinstance(obj, (Notification, Event))]
    if notable:
        session.info.setdefault(_FLUSHED, []).extend(notable)


def _after_flush_postexec(session: Session, _context) -> None:
    rows = session.info.pop(_FLUSHED, None)
    if not rows:
        return
    with session.no_autoflush:
        for row in rows:
            for org_pk, event_type, data, created_at in _reported(session, row):
                _write(session, org_pk, event_type, data, created_at)


def _before_commit(session: Session) -> None:
    blocks = session.info.pop(_BLOCKS, None)
    if not blocks:
        return
    seen: set[tuple[int, str]] = set()  # blocks of this commit, not yet in the table
    with session.no_autoflush:
        for decision, now in blocks:
            _block(session, decision, now, seen)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_FLUSHED, None)
    session.info.pop(_BLOCKS, None)


def install() -> None:
    """Listen on every session (idempotent; storage/__init__ calls it)."""
    for name, listener in (("after_flush", _after_flush), ("after_flush_postexec", _after_flush_postexec),
                           ("before_commit", _before_commit), ("after_rollback", _forget)):
        if not sa_event.contains(Session, name, listener):
            sa_event.listen(Session, name, listener)


# -- what is reported ------------------------------------------------------------------

def _reported(session: Session, row) -> list[tuple[int, str, dict, datetime]]:
    if isinstance(row, Notification):
        member = session.get(Member, (row.org_pk, row.member_pk)) if row.member_pk is not None else None
        data = views.notification(row, member.id if member else None)
        return [(row.org_pk, f"notification.{data['type']}", data, row.created_at)]
    decision = json.loads(row.decision)
    # The decision that made it: its audit entry, event, plan and day.
    context = {"decision": {"audit_id": row.pk, "event": row.kind, "plan": decision.get("plan"),
                            "as_of": row.as_of.isoformat()}}
    out = [(row.org_pk, f"notification.{note['type']}", {**note, **context}, row.created_at)
           for note in decision.get("notifications") or [] if note.get("type") not in KEPT_AS_ROWS]
    if decision.get("transition"):
        transition = decision["transition"]
        out.append((row.org_pk, f"transition.{transition['type']}", {**transition, **context}, row.created_at))
    return out


def _block(session: Session, decision: Decision, now: datetime, seen: set[tuple[int, str]]) -> None:
    request = decision.request or {}
    org_id = (request.get("organization") or {}).get("id")
    org = repo.find_org(session, org_id) if org_id else None
    if org is None:
        return
    member = (request.get("member") or {}).get("id")
    plain = decision.to_dict()
    for reason in plain["reasons"]:
        data = {"reason": reason, "member": member, "product": decision.product, "seat_type": decision.seat_type,
                "resume": plain["resume"],
                "decision": {"event": decision.event, "plan": plain["plan"], "as_of": plain["as_of"]}}
        state = _block_state(session, org, decision, reason, member)
        if (org.pk, state) not in seen:
            seen.add((org.pk, state))
            _write(session, org.pk, f"block.{reason['code']}", data, now, dedupe=state)


def _block_state(session: Session, org: Organization, decision: Decision, reason: dict, member: str | None) -> str:
    """What makes a block new: the period, the reason and whom it stops, the
    limit (a raised limit reached again is a new block) and, for credits, the
    last purchase (credits bought and used up again is a new block)."""
    level = reason.get("level")
    subject = {"organization": "", "seat_type": reason.get("seat_type")}.get(level, member)
    if reason["code"] == "credits_exhausted":
        subject = str(session.execute(select(func.max(CreditEntry.pk)).where(
            CreditEntry.org_pk == org.pk, CreditEntry.kind == "purchase")).scalar() or 0)
    state = [periods.period_start(decision.as_of).isoformat(), reason["code"], level or "", subject or "",
             str(reason.get("limit", "")), str(reason.get("product", ""))]
    return hashlib.sha256("\x1f".join(state).encode()).hexdigest()


def _endpoints(session: Session, org_pk: int) -> list[WebhookEndpoint]:
    """The endpoints that hear of ``org_pk``: its own and those for every organization."""
    return list(session.execute(select(WebhookEndpoint).where(
        or_(WebhookEndpoint.org_pk.is_(None), WebhookEndpoint.org_pk == org_pk),
        WebhookEndpoint.deleted_at.is_(None))).scalars())


def _write(session: Session, org_pk: int, event_type: str, data: dict, created_at: datetime,
           dedupe: str | None = None) -> None:
    endpoints = [e for e in _endpoints(session, org_pk) if wants(json.loads(e.events) if e.events else None,
                                                                 event_type)]
    if not endpoints:
        return
    if dedupe is not None and session.execute(select(WebhookEvent.pk).where(
            WebhookEvent.org_pk == org_pk, WebhookEvent.dedupe_key == dedupe)).first() is not None:
        return
    org = session.get(Organization, org_pk)
    event_id = new_id("evt")
    body = json.dumps({"id": event_id, "type": event_type, "organization": org.id,
                       "created_at": views.iso(created_at), "data": data}, sort_keys=True, separators=(",", ":"))
    outbox = WebhookEvent(id=event_id, org_pk=org_pk, type=event_type, dedupe_key=dedupe, body=body,
                          created_at=created_at)
    session.add(outbox)
    for endpoint in endpoints:
        session.add(WebhookDelivery(endpoint_pk=endpoint.pk, event=outbox, org_pk=org_pk, status="pending",
                                    attempts=0, next_attempt_at=created_at, window_start=created_at,
                                    created_at=created_at))
