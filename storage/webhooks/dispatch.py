"""Delivering the outbox: claim due deliveries, POST each, record the outcome.

Any number of dispatchers may run (one thread per server worker, on any
number of hosts) against one database. A claim is one statement that takes
due rows whose lease has run out and leases them for ``lease_s`` under a new
token: on PostgreSQL its subquery locks them ``FOR UPDATE SKIP LOCKED`` (two
dispatchers never wait on nor take the same rows); on SQLite the write
transaction holds the database lock, so the UPDATE is atomic as it is. The
outcome is recorded only while the token still holds the row. A dispatcher
that dies mid-send leaves its rows to be claimed again once their lease runs
out: delivery is at least once, and the event id lets a receiver drop the
repeat.

Retries back off exponentially: ``first_retry_s`` after the first failure,
doubling up to ``max_retry_s``, with up to 10% jitter so that many
deliveries to a receiver that comes back do not all arrive at once; a
delivery still failing ``give_up_s`` after it was created (or retried by
hand) is marked failed. Any 2xx is a success; redirects are not followed.
Deliveries done (and then their events) are kept ``retention_s`` (30 days),
pruned by each dispatcher about hourly.
"""
from __future__ import annotations

import logging
import random
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import delete, or_, select, update

from ..db import Database
from ..errors import DatabaseUnavailable
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent, joined
from . import signing, targets

log = logging.getLogger("tariff.webhooks")
USER_AGENT = "tariff-webhooks/1"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Settings:
    first_retry_s: float = 2.0
    max_retry_s: float = 60.0
    give_up_s: float = 3 * 24 * 3600.0
    timeout_s: float = 5.0
    poll_s: float = 1.0
    batch: int = 10
    retention_s: float = 30 * 24 * 3600.0  # delivered and failed deliveries, and their events, then go
    private_targets: bool = True  # False: only to public addresses (targets.py)
    prune_every_s: float = 3600.0

    def __post_init__(self):
        for name in ("first_retry_s", "max_retry_s", "give_up_s", "timeout_s", "poll_s", "retention_s",
                     "prune_every_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"webhook setting {name} must be positive, got {getattr(self, name)!r}")
        if self.max_retry_s < self.first_retry_s:
            raise ValueError("the longest retry delay cannot be shorter than the first")
        if self.batch < 1:
            raise ValueError("webhook batch must be at least 1")

    @property
    def lease_s(self) -> float:
        """Long enough to send a whole claim at the timeout, and then some."""
        return self.batch * self.timeout_s + 30.0

    def backoff(self, attempts: int) -> float:
        """The delay after the ``attempts``-th failed attempt (1, 2, ...)."""
        return min(self.max_retry_s, self.first_retry_s * 2 ** min(attempts - 1, 30)) * (1 + random.random() / 10)


@dataclass
class Claimed:
    org_pk: int  # the organization the delivery is for: its row is found on its shard
    pk: int
    token: str
    url: str
    secret: str
    body: bytes
    attempts: int
    window_start: datetime


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer like any other non-2xx: a failure


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: dict, timeout_s: float) -> Outcome:
    """One HTTP POST (stdlib; the response body is not read beyond 64 KiB)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            response.read(65536)
            return Outcome(200 <= response.status < 300, response.status)
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code, f"HTTP {exc.code}")
    except Exception as exc:  # noqa: BLE001 (refused, reset, timed out, a bad status line...: the receiver failed)
        reason = getattr(exc, "reason", exc)
        return Outcome(False, None, f"{type(reason).__name__}: {reason}"[:500])


class Dispatcher:
    """``run_once`` claims, sends and records one batch; ``start`` runs it in a daemon thread."""

    def __init__(self, database: Database, settings: Settings = Settings(),
                 clock: Callable[[], datetime] = utc_now, send: Callable[..., Outcome] = post):
        self.db, self.settings, self.clock, self.send = database, settings, clock, send
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ------------------------------------------------------------------

    def due(self) -> bool:
        """Whether anything is due (a read: no write lock taken when idle)."""
        now = self.clock()
        with self.db.read() as session:
            return session.execute(select(WebhookDelivery.pk).where(*_claimable(now)).limit(1)).first() is not None

    def claim(self) -> list[Claimed]:
        """Lease up to ``batch`` due deliveries, oldest due first. They are read first,
        without a lock; then each organization's are leased on its own rows (locked,
        skipping any another dispatcher took meanwhile): Citus runs a locking read only
        on one shard, that is one organization's (docs/scaling.md)."""
        now, token = self.clock(), secrets.token_hex(16)
        with self.db.write() as session:
            due: dict[int, list[int]] = {}
            for org_pk, pk in session.execute(
                    select(WebhookDelivery.org_pk, WebhookDelivery.pk).where(*_claimable(now))
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.pk).limit(self.settings.batch)):
                due.setdefault(org_pk, []).append(pk)
            for org_pk, pks in due.items():  # org_pk in both: each statement on the organization's shard
                mine = WebhookDelivery.org_pk == org_pk
                chosen = select(WebhookDelivery.pk).where(mine, WebhookDelivery.pk.in_(pks), *_claimable(now)) \
                    .with_for_update(skip_locked=True)
                session.execute(update(WebhookDelivery).where(mine, WebhookDelivery.pk.in_(chosen.scalar_subquery()))
                                .values(lease_until=now + timedelta(seconds=self.settings.lease_s), lease_token=token)
                                .execution_options(synchronize_session=False))
            rows = session.execute(
                select(WebhookDelivery.org_pk, WebhookDelivery.pk, WebhookEndpoint.url, WebhookEndpoint.secret,
                       WebhookEvent.body, WebhookDelivery.attempts, WebhookDelivery.window_start)
                .join(WebhookEndpoint, WebhookEndpoint.pk == WebhookDelivery.endpoint_pk)
                .join(WebhookEvent, joined(WebhookDelivery.event_pk, WebhookEvent))
                .where(WebhookDelivery.lease_token == token).order_by(WebhookDelivery.pk)).all()
        return [Claimed(org_pk, pk, token, url, secret, body.encode(), attempts, window_start)
                for org_pk, pk, url, secret, body, attempts, window_start in rows]

    def deliver(self, item: Claimed) -> Outcome:
        if not self.settings.private_targets:
            problem = targets.non_public(item.url)
            if problem:
                return Outcome(False, None, f"not sent: {problem}"[:500])
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   signing.HEADER: signing.header(item.secret, timestamp, item.body)}
        return self.send(item.url, item.body, headers, self.settings.timeout_s)

    def record(self, item: Claimed, outcome: Outcome) -> None:
        now = self.clock()
        attempts = item.attempts + 1
        values = {"attempts": attempts, "last_attempt_at": now, "last_status": outcome.status,
                  "last_error": outcome.error, "lease_until": None, "lease_token": None}
        if outcome.ok:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        else:
            retry_at = now + timedelta(seconds=self.settings.backoff(attempts))
            if retry_at - item.window_start > timedelta(seconds=self.settings.give_up_s):
                values.update(status="failed", next_attempt_at=None)
            else:
                values.update(next_attempt_at=retry_at)
        with self.db.write() as session:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.org_pk == item.org_pk,
                                                          WebhookDelivery.pk == item.pk,
                                                          WebhookDelivery.lease_token == item.token)
                            .values(**values).execution_options(synchronize_session=False))

    def run_once(self) -> int:
        """Claim a batch, send and record each; how many were attempted."""
        if not self.due():
            return 0
        claimed = self.claim()
        for item in claimed:
            self.record(item, self.deliver(item))
        return len(claimed)

    def prune(self) -> int:
        """Forget deliveries done (delivered or failed) longer than the
        retention ago, and the events left with none; how many deliveries went."""
        cutoff = self.clock() - timedelta(seconds=self.settings.retention_s)
        with self.db.write() as session:
            gone = session.execute(delete(WebhookDelivery).where(
                WebhookDelivery.status != "pending", WebhookDelivery.created_at < cutoff)).rowcount or 0
            session.execute(delete(WebhookEvent).where(WebhookEvent.created_at < cutoff, ~select(
                WebhookDelivery.pk).where(joined(WebhookDelivery.event_pk, WebhookEvent)).exists()))
        return gone

    # -- the thread -------------------------------------------------------------------

    def run(self) -> None:
        next_prune = time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self.settings.prune_every_s
                try:
                    self.prune()
                except Exception:  # a busy database: next time
                    log.exception("webhook pruning failed")
            try:
                busy = self.run_once()
            except DatabaseUnavailable as exc:  # busy or down: try again at the next poll
                log.warning("webhook dispatch: %s", exc)
                busy = 0
            except Exception:  # never let the thread die: log, wait, go on
                log.exception("webhook dispatch failed")
                busy = 0
            if not busy:
                self._stop.wait(self.settings.poll_s)

    def start(self) -> "Dispatcher":
        self._thread = threading.Thread(target=self.run, name="tariff-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def _claimable(now: datetime):
    return (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now))
