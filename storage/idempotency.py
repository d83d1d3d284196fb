"""Idempotency keys: a request that moves money or state may carry a key; a
retry with the key gets the first answer, and the same key with a different
request (or on another operation) is a conflict.

Usage records and credit purchases keep their key on the row they made
(``first_use``). Every other operation keeps its first answer in
``IdempotentAnswer`` (``SharedAnswer`` for an operation of no organization),
written in the same transaction as its effect:

    with books.write() as uow:
        org, who = uow.acting(org_id, actor)
        once = idempotency.Once(uow, org, "seats.add", key, count=count, ...)
        if once.replay is not None:
            return once.replay                   # a Replayed dict: the first answer
        ...                                      # the effect
        return once.keep(answer)                 # kept beside it (a no-op without a key)

A key is unique per organization, or per shared scope for operations of no
organization ("" for creating one and for webhook endpoints, "#keys" for API
keys), and remembers the operation it was used for. Kept answers are pruned after the
retention window (``TARIFF_IDEMPOTENCY_RETENTION_DAYS``, 35 days by default)
by ``prune``, which the daily billing run for every organization calls
(billing.run_all).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text

from .config import retention_days
from .errors import Conflict, InvalidInput
from .models import IdempotentAnswer, Organization, SharedAnswer

# json.dumps(fields, sort_keys=True, default=str) without making an encoder per call
# (a quarter of a usage record's digest): the same text, so the same digests as ever.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)


def fingerprint(**fields) -> str:
    """What a request asked for, as a digest kept beside its key."""
    return hashlib.sha256(_CANONICAL.encode(fields).encode()).hexdigest()


def first_use(session, model, org: Organization, key: str, digest: str, what: str):
    """The ``model`` row an earlier request with ``key`` made (None: the key is
    new); ``Conflict`` when that request asked for something else."""
    row = session.execute(select(model).where(model.org_pk == org.pk, model.idempotency_key == key)
                          ).scalar_one_or_none()
    if row is not None and row.request_hash != digest:
        raise _reused(what)
    return row


def _reused(what: str) -> Conflict:
    return Conflict(f"this idempotency key was used for a different {what}", "idempotency_key_reused")


class Replayed(dict):
    """A kept answer, returned again (callers say so: ``Idempotent-Replayed: true``)."""


def is_replay(answer) -> bool:
    return isinstance(answer, Replayed) or bool(getattr(answer, "replayed", False))


def _queue_first_uses(session, scope: str, key: str) -> None:
    """Two first uses of one shared key at once: the second waits for the
    first's transaction and then replays it (an organization's lock queues
    its own; an operation with no organization to lock, creating one or a
    webhook for every organization, needs this). On PostgreSQL, a transaction-scoped
    advisory lock on the key; SQLite's write transaction holds the whole
    database already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": f"{scope}\x1f{key}"})


class Once:
    """One operation under an optional idempotency key, inside a unit of work
    (call it after the organization is locked, so retries queue behind it)."""

    def __init__(self, uow, scope: Organization | str, operation: str, key: str | None, **request):
        """``scope``: the organization, or a shared scope's name (module docstring)."""
        self.uow, self.operation, self.key = uow, operation, key
        self.org_pk, self.shared = (scope.pk, None) if isinstance(scope, Organization) else (None, scope)
        self.digest = fingerprint(operation=operation, **request)
        self.replay: Replayed | None = None
        self.extra: dict | None = None
        if key is None:
            return
        if not key or len(key) > 255:
            raise InvalidInput.field("idempotency_key", "1 to 255 characters")
        if self.org_pk is None:  # an organization's lock (taken before) queues its retries already
            _queue_first_uses(uow.session, self.shared, key)
            query = select(SharedAnswer).where(SharedAnswer.scope == self.shared, SharedAnswer.idempotency_key == key)
        else:
            query = select(IdempotentAnswer).where(IdempotentAnswer.org_pk == self.org_pk,
                                                   IdempotentAnswer.idempotency_key == key)
        row = uow.session.execute(query).scalar_one_or_none()
        if row is None:
            return
        if row.operation != operation:
            raise _reused(f"operation ({row.operation})")
        if row.request_hash != self.digest:
            raise _reused("request")
        kept = json.loads(row.answer)
        self.replay, self.extra = Replayed(kept["answer"]), kept.get("extra")

    def keep(self, answer: dict, **extra) -> dict:
        """Keep ``answer`` (JSON-safe) as this key's first answer; returns it."""
        if self.key is not None:
            kept = dict(idempotency_key=self.key, operation=self.operation, request_hash=self.digest,
                        answer=json.dumps({"answer": answer, "extra": extra or None}, sort_keys=True, default=str),
                        created_at=self.uow.now)
            self.uow.session.add(SharedAnswer(scope=self.shared, **kept) if self.org_pk is None
                                 else IdempotentAnswer(org_pk=self.org_pk, **kept))
            self.uow.session.flush()
        return answer


def prune(books, days: int | None = None) -> int:
    """Forget the kept answers older than the retention window; how many went."""
    with books.write() as uow:
        cutoff: datetime = uow.now - timedelta(days=retention_days() if days is None else days)
        return sum(uow.session.execute(delete(model).where(model.created_at < cutoff)).rowcount or 0
                   for model in (IdempotentAnswer, SharedAnswer))
