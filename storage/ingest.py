"""Usage ingestion, lean: one organization's usage records in one transaction.

``Run`` holds an organization (locked) and its state for the records at hand,
read in two statements (lean.py); each record then takes one engine decision
(``usage``: the same blocks as the pre-check, which a record without an
estimate never differs from: policies/rules/*.yaml), its effects are applied
in memory in the order given, and ``flush`` makes their answers and rows and
writes them all with a handful of executemany statements. The single-record
path (usage.record) is a run of one, the batch (``batch``) a run per
organization, each in its own transaction, so organizations never wait on each
other and a failure of one organization's transaction fails only its records.
On PostgreSQL a long run streams its writes (``Run.writing``): the server
stores each hundred records while the next hundred are decided; the COMMIT
goes in the pipeline after the last part (UnitOfWork.commit_in).

What a record does is exactly what usage.record always did: replay of a known
key (another body: idempotency_key_reused), member and period checks, the
decision, then the record, month-to-date counters, credits consumed and
notifications; a blocked record keeps nothing and leaves its key unused.
"""
from __future__ import annotations

import gc
import hashlib
import json
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, NamedTuple

import orjson

from tariff.engine import TOKEN_CLASSES, UNLIMITED, Decision, InputError, money, periods

from . import caller, direct, idempotency, lean, top_ups
from .errors import Conflict, DatabaseUnavailable, InvalidInput, LedgerError, NotFound
from .unit_of_work import Books, UnitOfWork
from .views import TOKEN_COLUMNS, iso

CLOCK_SKEW = timedelta(minutes=5)
MAX_BATCH = 1000
# A long run on PostgreSQL writes every this many records, without waiting
# (Run.writing): the server stores one part while the next is decided.
STREAM_EVERY = 100
LEVEL_NAMES = ("organization", "seat_type", "individual")
FIELDS = ("organization", "idempotency_key", "member", "product", "model", "tokens", "occurred_at")


@dataclass
class Usage:
    """One usage record asked for, checked for form (``parse``)."""
    idempotency_key: str
    member: str
    product: str
    model: str
    tokens: dict
    occurred_at: datetime | None = None
    organization: str | None = None
    counts: dict[str, int] | None = None  # token_counts(tokens), once checked


class Outcome:
    """What one record came to: ``status`` recorded | replayed | blocked | error;
    ``answer`` the answer as usage.record gives it; ``error`` the exception;
    ``decision`` the engine's (not on a replay, nor on a record a batch recorded:
    its answer holds what it decided, see ``keep``)."""
    __slots__ = ("status", "_answer", "language", "decision", "error", "pk", "body", "_kept")

    def __init__(self, status: str, answer: dict | None = None, language: str | None = None,
                 decision: Decision | None = None, error: Exception | None = None, pk: int | None = None):
        self.status, self._answer, self.language, self.decision = status, answer, language, decision
        self.error, self.pk = error, pk
        self.body: bytes | None = None  # a recorded answer as JSON, the very text kept with the record
        self._kept: bytes | None = None  # the answer as JSON only, read back when asked for

    @property
    def answer(self) -> dict | None:
        if self._answer is None and self._kept is not None:
            self._answer = _loads(self._kept)
        return self._answer

    @answer.setter
    def answer(self, value: dict | None) -> None:
        self._answer = value

    def keep(self, body: bytes) -> None:
        """A batch's recorded record: its answer kept as its JSON only, without the decision.
        A batch's outcomes outlive it (in the caller's answer), and the cycle collector's
        first pass after a batch walked each record's dicts and decision: 3% of a batch's
        time (bench/ledger.py)."""
        self._answer, self._kept, self.body, self.decision = None, body, body, None

    @property
    def answered(self) -> bool:
        return self._answer is not None or self._kept is not None

    def answers_as(self, first: Outcome) -> None:
        """A replay of a record of the same run: ``first``'s answer."""
        self._answer, self._kept, self.language = first._answer, first._kept, first.language

    def __repr__(self) -> str:
        return f"Outcome({self.status!r}, pk={self.pk!r}, error={self.error!r})"


def _loads(body: bytes) -> dict:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # what json.dumps wrote (_json): a lone surrogate, say
        return json.loads(body)


class Applied(NamedTuple):
    """A record decided and applied to its run's state, its answer and row not made yet
    (Run._finish): what they need, with the balance and the month's spend after it."""
    outcome: Outcome
    usage: Usage
    who: lean.MemberRow
    when: datetime
    period: date
    counts: dict
    digest: str
    cost: Decimal
    billed: Decimal
    included: Decimal
    render: Callable[[Decision], dict]
    balance: Decimal | None  # None: not a prepaid plan
    org_spend: Decimal
    own_spend: Decimal


# -- form -----------------------------------------------------------------------

def parse(raw, prefix: str = "") -> Usage:
    """A batch item as a Usage, or InvalidInput naming every bad field (paths under ``prefix``)."""
    if not isinstance(raw, dict):
        raise InvalidInput.field(prefix.rstrip(".") or "record", "a usage record is a JSON object")
    errors = {f"{prefix}{name}": ["unknown field"] for name in raw if name not in FIELDS}
    for name in ("organization", "idempotency_key", "member", "product", "model"):
        value = raw.get(name)
        if value is None:
            errors[f"{prefix}{name}"] = ["required"]
        elif type(value) is not str or not 1 <= len(value) <= (255 if name == "idempotency_key" else 200):
            errors[f"{prefix}{name}"] = ["text, 1 to 255 characters" if name == "idempotency_key"
                                         else "text, 1 to 200 characters"]
    tokens, counts = raw.get("tokens"), None
    if tokens is None:
        errors[f"{prefix}tokens"] = ["required"]
    else:
        try:
            counts = token_counts(tokens)
        except InvalidInput as exc:
            errors.update({f"{prefix}{path}": messages for path, messages in exc.errors.items()})
    when = raw.get("occurred_at")
    if when is not None:
        try:
            when = _timestamp(when)
        except ValueError as exc:
            errors[f"{prefix}occurred_at"] = [str(exc)]
    if errors:
        raise InvalidInput("the usage record is not valid", errors=errors)
    return Usage(raw["idempotency_key"], raw["member"], raw["product"], raw["model"], tokens, when,
                 raw["organization"], counts)


def _timestamp(text) -> datetime:
    if type(text) is not str or not 10 <= len(text) <= 40:
        raise ValueError("an ISO 8601 date and time with a time zone")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("an ISO 8601 date and time with a time zone") from None
    if when.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-04-10T12:00:00Z)")
    if not 2000 <= when.year <= 2999:
        raise ValueError("a day from 2000-01-01 to 2999-12-31")
    return when


def token_counts(tokens) -> dict[str, int]:
    """Every token class's count (0 when not given), or InvalidInput naming each bad class."""
    if not isinstance(tokens, dict):
        raise InvalidInput.field("tokens", "token counts by class: " + ", ".join(TOKEN_CLASSES))
    errors = {f"tokens.{name}": ["not a token class"] for name in tokens if name not in TOKEN_CLASSES}
    for name, count in tokens.items():
        if name in TOKEN_CLASSES and (type(count) is not int or not 0 <= count <= 2 ** 63 - 1):
            errors[f"tokens.{name}"] = ["a whole number, 0 or more"]
    if not errors and not any(tokens.values()):
        errors["tokens"] = ["at least one token count must be positive"]
    if errors:
        raise InvalidInput("the token counts are not valid", errors=errors)
    return {c: tokens.get(c, 0) for c in TOKEN_CLASSES}


def when_of(occurred_at: datetime | None, now: datetime) -> datetime:
    """When the usage happened: ``occurred_at`` (late is fine, not in the future), else now; in UTC."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise InvalidInput.field("occurred_at", "give a time zone (e.g. 2026-04-10T12:00:00Z)")
    if occurred_at - now > CLOCK_SKEW:
        raise InvalidInput.field("occurred_at", "is in the future")
    return occurred_at.astimezone(timezone.utc)


def _digest(u: Usage, counts: dict, when: datetime) -> str:
    """idempotency.fingerprint of the record's fields, written out for their one shape: the
    very text json.dumps(..., sort_keys=True) makes (so the digests kept by earlier versions
    still match: tested), in a quarter of its time (a json encoder is set up per call)."""
    text = _DIGEST_TEXT % (_string(u.member), _string(u.model),
                           "null" if u.occurred_at is None else _string(when.isoformat()), _string(u.product),
                           *[int.__repr__(counts[c]) for c in _SORTED_CLASSES])
    return hashlib.sha256(text.encode()).hexdigest()


_string = json.encoder.encode_basestring_ascii  # json.dumps's own escaping of a str (C)
_SORTED_CLASSES = sorted(TOKEN_CLASSES)
_DIGEST_TEXT = '{"member": %s, "model": %s, "occurred_at": %s, "product": %s, "tokens": {' \
    + ", ".join(f'"{c}": %s' for c in _SORTED_CLASSES) + "}}"


# -- one organization's run -------------------------------------------------------

class Run:
    """One organization, locked in ``uow``, and its state for ``records``."""

    def __init__(self, uow: UnitOfWork, org_id: str, records: list[Usage], lock: bool = True, batch: bool = False):
        self.uow = uow
        self.batch = batch  # a run of ``batch``: its recorded outcomes keep their answers as JSON only (Outcome.keep)
        self.key_id, self.key_name = caller.key()  # the audit trail's "who" on every record of the run
        self.conn = uow.connection()  # taken once
        days = {(r.occurred_at or uow.now).astimezone(timezone.utc).date() for r in records}
        self.count = len(records)
        # One record on PostgreSQL: the pipeline of its reads stays open for its writes, so
        # the reads take one round trip and the writes one more (closed by ``writing``).
        held = direct.HeldPipeline(self.conn) if lock and self.count == 1 else None
        try:
            self.org, self.state, pks = lean.read(
                self.conn, org_id, lock, sorted({r.member for r in records}),
                sorted({r.idempotency_key for r in records if r.idempotency_key}),
                sorted({periods.period_start(d) for d in days}), ahead=self.count if lock else 0, held=held)
            if self.org is None:
                raise NotFound(f"no organization {org_id!r}", "organization_not_found")
        except BaseException as exc:
            if held is not None:
                held.close(exc)
            raise
        self.held: direct.HeldPipeline | None = held if held is not None and held.is_open else None
        self.plan = uow.plan(self.org)
        self.prepaid = self.org.channel in self.plan.prepaid_credits
        self.balance = self.org.credit_balance
        self.kept: dict[str, tuple[str, Outcome]] = {}  # keys recorded in this run: digest, outcome
        self.usage: list[dict] = []
        # Records decided and applied to the state, their answers and rows not made yet
        # (``_finish``), and replays of them: see ``_apply``.
        self.unfinished: list[Applied] = []
        self.replays: list[tuple[Outcome, Outcome]] = []
        self.credits: list[dict] = []
        self.notes: list[dict] = []
        self.balance_moved = False
        self.texts: dict[date | datetime, str] = {uow.now: iso(uow.now)}  # iso() of the times and periods met
        self.consumed = False  # credits went down since the run began (an automatic top-up may be due)
        # ids for the run's records (each takes one at most), taken ahead: with the reads on
        # PostgreSQL, else at the first record recorded (new_pks)
        self.pks: deque[int] | None = None if pks is None else deque(pks)

    # -- reading -----------------------------------------------------------------

    def member(self, member_id: str) -> lean.MemberRow:
        """A current member (as UnitOfWork.member): a removed one uses nothing more."""
        row = self.state.members.get(member_id)
        if row is None:
            raise NotFound(f"no member {member_id!r} in organization {self.org.id!r}", "member_not_found")
        if row.removed_at is not None:
            raise Conflict(f"member {member_id!r} was removed from organization {self.org.id!r}", "member_removed")
        return row

    def keys(self, who: lean.MemberRow) -> dict[str, tuple[str, str]]:
        return {"organization": ("organization", ""), "seat_type": ("seat_type", who.seat_type),
                "individual": ("individual", who.id)}

    def counter(self, period: date, key: tuple[str, str]) -> lean.Counter:
        found = self.state.counters.get((period, *key))
        if found is None:
            found = self.state.counters[(period, *key)] = lean.Counter(money.ZERO, money.ZERO, 0, False)
        return found

    def level(self, period: date, key: tuple[str, str]) -> dict:
        out = {"spend": self.counter(period, key).spend, "notified_pct": self.state.notified.get((period, *key), 0)}
        if key in self.state.limits:
            amount = self.state.limits[key]
            out["limit"] = UNLIMITED if amount is None else amount
        return out

    def request(self, who: lean.MemberRow, day: date, event: dict) -> dict:
        """The usage request, as requests.request and SpendState.usage_parts make it."""
        org, period, keys = self.org, periods.period_start(day), self.keys(who)
        levels = [level for level in self.plan.limit_levels if level in keys]
        organization = {"id": org.id, "term_start": org.term_start, "hipaa_seats": org.hipaa_seats,
                        "extra_usage": org.extra_usage, "credit_balance": self.balance}
        if "organization" in levels:
            organization.update(self.level(period, keys["organization"]))
        else:
            organization["spend"] = self.counter(period, keys["organization"]).spend
        out = {"plan": org.plan, "channel": org.channel, "as_of": day, "organization": organization,
               "event": event}
        if "seat_type" in levels:
            out["seat_type_pool"] = self.level(period, keys["seat_type"])
        mine = self.counter(period, keys["individual"])
        member = {"id": who.id, "role": who.role, "seat_type": who.seat_type, "spend": mine.spend,
                  "included_used": mine.included}
        if "individual" in levels:
            member.update(self.level(period, keys["individual"]))
        out["member"] = member
        return out

    def iso(self, value: date | datetime) -> str:
        text = self.texts.get(value)
        if text is None:
            text = self.texts[value] = iso(value)
        return text

    def reserve_pks(self) -> deque[int]:
        """Ids for every record of the run (each takes one at most), unless taken with the reads."""
        if self.pks is None:
            self.pks = deque(lean.new_pks(self.conn, self.count))
        return self.pks

    def take_pk(self) -> int:
        return self.reserve_pks().popleft()

    def credit_balance(self) -> str | None:
        return money.fmt(self.balance) if self.prepaid else None

    # -- one record ------------------------------------------------------------------

    def record(self, u: Usage, render: Callable[[Decision], dict], language: str | None) -> Outcome:
        """Decide and apply one record (in memory until ``flush``); LedgerError or InputError
        when the record cannot be taken: nothing of it is kept."""
        uow = self.uow
        if not u.idempotency_key or len(u.idempotency_key) > 255:
            raise InvalidInput.field("idempotency_key", "1 to 255 characters")
        when = when_of(u.occurred_at, uow.now)
        counts = u.counts or token_counts(u.tokens)
        digest = _digest(u, counts, when)
        replay = self._replay(u.idempotency_key, digest)
        if replay is not None:
            return replay
        who = self.member(u.member)
        if u.occurred_at is not None and when < who.created_at:
            raise InvalidInput.field("occurred_at", f"is before member {who.id!r} was added "
                                                    f"({iso(who.created_at)})", "before_member")
        day = when.date()
        period = periods.period_start(day)
        if self.org.closed_through is not None and period <= self.org.closed_through:
            raise Conflict(f"the billing period of {day.isoformat()} is closed", "period_closed")
        event = {"type": "usage", "product": u.product, "model": u.model,
                 "tokens": {c: n for c, n in counts.items() if n}}
        decision = uow.decide(self.request(who, day, event))
        if decision.outcome != "allow":
            answer = {"outcome": decision.outcome, "recorded": False, "usage": None, "decision": render(decision),
                      "credit_balance": self.credit_balance(), "month_to_date": None, "replayed": False}
            return Outcome("blocked", answer, language, decision)
        return self._apply(u, who, when, period, counts, digest, decision, render, language)

    def _replay(self, key: str, digest: str) -> Outcome | None:
        mine = self.kept.get(key)
        if mine is not None:
            if mine[0] != digest:
                raise idempotency._reused("usage record")
            first = mine[1]
            replay = Outcome("replayed", pk=first.pk)
            replay.answers_as(first)
            if not first.answered:  # not finished yet: its answer is given to the replay then
                self.replays.append((replay, first))
            return replay
        stored = self.state.keys.get(key)
        if stored is None:
            return None
        pk, request_hash, response = stored
        if request_hash != digest:
            raise idempotency._reused("usage record")
        kept = json.loads(response)
        if "answer" not in kept:  # kept before answers carried their language: the answer itself
            kept = {"answer": kept, "language": None}
        answer = kept["answer"]
        answer["usage"]["id"] = pk
        return Outcome("replayed", answer, kept["language"], pk=pk)

    def _apply(self, u: Usage, who: lean.MemberRow, when: datetime, period: date, counts: dict, digest: str,
               decision: Decision, render, language) -> Outcome:
        """The record's effects on the run's state (credits, counters, notifications);
        its answer, and the row that keeps it, are made by ``_finish``, before the next
        write. Two passes, so the decisions run one after another: interleaved with
        making answers and rows, each decision took about a sixth longer (bench/ledger.py)."""
        cost, billed, included = decision.total, money.ZERO, money.ZERO
        counted, pk = False, self.take_pk()
        keys = self.keys(who)
        for change in decision.changes:
            if change["change"] == "record_usage":
                cost, billed, included = change["cost"], change["billed"], change["included"]
                counted = True
            elif change["change"] == "consume_credits" and change["amount"]:
                self.balance -= change["amount"]
                self.balance_moved = True
                self.credits.append({"org_pk": self.org.pk, "kind": "consumption", "amount": -change["amount"],
                                     "balance_after": self.balance, "member_pk": who.pk, "usage_record_pk": pk,
                                     "idempotency_key": None, "request_hash": None, "created_at": self.uow.now})
        if counted:
            for key in keys.values():
                c = self.counter(period, key)
                c.spend, c.included, c.records, c.changed = c.spend + billed, c.included + included, \
                    c.records + 1, True
        for note in decision.notifications:
            level = note.get("level")
            if level not in keys:
                continue
            subject = keys[level][1]
            self.notes.append({"org_pk": self.org.pk, "period_start": period, "level": level, "subject": subject,
                               "threshold_pct": note["threshold_pct"], "spend": note["spend"], "limit": note["limit"],
                               "member_pk": who.pk, "usage_record_pk": pk, "created_at": self.uow.now})
            seen = self.state.notified.get((period, level, subject), 0)
            self.state.notified[(period, level, subject)] = max(seen, note["threshold_pct"])
        outcome = Outcome("recorded", None, language, decision, pk=pk)
        self.kept[u.idempotency_key] = (digest, outcome)
        # what the answer tells as of this record: the balance and the month's spend after it
        self.unfinished.append(Applied(outcome, u, who, when, period, counts, digest, cost, billed, included, render,
                                       self.balance if self.prepaid else None,
                                       self.counter(period, keys["organization"]).spend,
                                       self.counter(period, keys["individual"]).spend))
        return outcome

    def _finish(self) -> None:
        """The answers and rows of the records applied since the last call (``_apply``)."""
        now, key_id, key_name, org_pk = self.iso(self.uow.now), self.key_id, self.key_name, self.org.pk
        for (outcome, u, who, when, period, counts, digest, cost, billed, included, render, balance, org_spend,
             own_spend) in self.unfinished:
            decision, pk, language = outcome.decision, outcome.pk, outcome.language
            view = {"id": pk, "idempotency_key": u.idempotency_key, "member": who.id, "product": u.product,
                    "model": u.model, "seat_type": who.seat_type, "tokens": counts, "occurred_at": self.iso(when),
                    "period_start": self.iso(period), "cost": money.fmt(cost), "billed": money.fmt(billed),
                    "included": money.fmt(included), "recorded_at": now, "key_id": key_id, "key_name": key_name}
            answer = {"outcome": decision.outcome, "recorded": True, "usage": view, "decision": render(decision),
                      "credit_balance": None if balance is None else money.fmt(balance),
                      "month_to_date": {"organization": money.fmt(org_spend), "individual": money.fmt(own_spend)},
                      "replayed": False}
            # Encoded once: kept as given (a replay reads it back whole: no order needed), and sent as is.
            body = _json(answer)
            response = f'{{"answer":{body.decode()},"language":{_json(language).decode()}}}'
            self.usage.append({"pk": pk, "org_pk": org_pk, "member_pk": who.pk, "idempotency_key": u.idempotency_key,
                               "request_hash": digest, "period_start": period, "occurred_at": when,
                               "recorded_at": self.uow.now, "seat_type": who.seat_type, "product": u.product,
                               "model": u.model, "cost": cost, "billed": billed, "included": included,
                               "request": _json(decision.request, sort=True).decode(), "response": response,
                               "key_id": key_id, "key_name": key_name,
                               **{TOKEN_COLUMNS[c]: n for c, n in counts.items()}})
            if self.batch:
                outcome.keep(body)
            else:
                outcome.answer, outcome.body = answer, body
        for replay, first in self.replays:
            replay.answers_as(first)
        self.unfinished, self.replays = [], []

    @contextmanager
    def writing(self, count: int = 1):
        """Around deciding and flushing the run's ``count`` records: a pipeline the run
        holds (PostgreSQL) is closed on the way out, error or not. A long run streams
        its writes: every STREAM_EVERY records ``due`` says so, ``flush(final=False)``
        sends them in a pipeline held open, and the server stores them (on its own core)
        while the next ones are decided; the unit's COMMIT follows the last part in the
        same pipeline, and waits for all (``flush``, UnitOfWork.commit_in). The ids are taken
        ahead, in one statement, so no insert waits for one (ids of records not recorded
        are skipped, as a sequence skips them anyway). Elsewhere, or for a short run:
        one flush at the end."""
        if self.held is None and count > STREAM_EVERY and direct.pipelines(self.conn):
            self.reserve_pks()  # no insert may wait for an id while the pipeline is held
            self.held = direct.HeldPipeline(self.conn)
            self.held.open()
        try:
            yield
        except BaseException as exc:
            if self.held is not None:
                self.held.close(exc)
            raise
        if self.held is not None:
            self.held.close()

    def due(self) -> bool:
        return self.held is not None and len(self.unfinished) >= STREAM_EVERY

    def flush(self, final: bool = True) -> None:
        """Write every record taken so far. ``final``:
        the run ends here: what was streamed is waited for, and a top-up may buy."""
        self._finish()
        held = self.held is not None and self.held.is_open
        if held and self.notes:  # notes go through the session: nothing may be pending
            self.held.close()
            held = False
        self.consumed |= self.balance_moved
        lean.write(self.conn, self.org.pk, self.usage, self.credits, self.state.counters,
                   self.balance if self.balance_moved else None, held)
        if self.notes:  # after the records they cite; through the session (made only now, in a Core unit)
            lean.insert_notifications(self.uow.session, self.notes)
        self.usage, self.credits, self.notes, self.balance_moved = [], [], [], False
        if final:
            if self.held is not None and not (self.consumed and self.state.top_up) \
                    and self.uow.commit_in(self.held):
                self.held = None  # the unit's COMMIT goes in it, after the writes: one round trip for both
            elif self.held is not None:
                self.held.close()  # waits for everything sent: its errors are raised here
        else:
            if self.held is not None:
                self.held.open()
            return
        if self.consumed and self.state.top_up:  # credits went down: an automatic top-up buys in this transaction
            bought = top_ups.top_up_if_due(self.uow, self.org.pk)
            if bought is not None:
                self.balance = bought.balance_after
        self.consumed = False


def _json(value, sort: bool = False) -> bytes:
    """The JSON kept with a usage record (its answer, also sent as is; its request), by
    orjson: a tenth of json.dumps's time on these 0.5 to 1.5 KB dicts, about 18 us a record
    (bench/ledger.py). The same content: Decimals as their exact digits, dates ISO
    (``_plain``), keys sorted when asked; compact. What orjson refuses (a lone surrogate,
    an int past 64 bits) is written by json.dumps, which reads back the same."""
    try:
        return orjson.dumps(value, default=_plain,
                            option=orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if sort else 0))
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=sort, default=_plain).encode()


def _plain(value):
    """Decision.request_json's text for what JSON has no type for (Decimals exact, dates ISO),
    given to json.dumps as ``default``: the same text, without first copying the request."""
    if isinstance(value, Decimal):
        return money.fmt(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a decision request")


# -- the batch ---------------------------------------------------------------------

def batch(books: Books, items: list, *, render: Callable[[Decision], dict] = Decision.to_dict,
          language: str | None = None, allowed: Callable[[str], bool] | None = None) -> list[Outcome]:
    """One Outcome per item, in order. Items are grouped by organization (in the
    order given within each); each organization's records are applied in one
    transaction. ``allowed(org_id)``: whether the caller may record for that
    organization (no: the record's result is organization_not_found)."""
    if len(items) > MAX_BATCH:
        raise InvalidInput.field("records", f"at most {MAX_BATCH} records in one batch")
    with _no_cycle_collection():
        return _batch(books, items, render, language, allowed)


@contextmanager
def _no_cycle_collection():
    """The cycle collector paused for one batch: a batch allocates many short-lived
    dicts (requests, decisions, answers) that reference counting frees at once, and
    the collector's passes over them cost about a fifth of a record's time
    (bench/ledger.py). Bounded by the batch's size; collected as usual after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _batch(books: Books, items: list, render, language, allowed) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(items)
    groups: dict[str, list[tuple[int, Usage]]] = {}
    for index, raw in enumerate(items):
        prefix = f"records.{index}."
        try:
            u = parse(raw, prefix)
        except InvalidInput as exc:
            outcomes[index] = Outcome("error", error=exc)
            continue
        if allowed is not None and not allowed(u.organization):
            outcomes[index] = Outcome("error", error=_named(NotFound(f"no organization {u.organization!r}",
                                                                     "organization_not_found"), prefix))
            continue
        groups.setdefault(u.organization, []).append((index, u))
    for org_id, group in groups.items():
        try:
            with books.write(core=True) as uow:
                run = Run(uow, org_id, [u for _, u in group], batch=True)
                with run.writing(len(group)):
                    for index, u in group:
                        try:
                            outcomes[index] = run.record(u, render, language)
                        except (LedgerError, InputError) as exc:
                            outcomes[index] = Outcome("error", error=_named(exc, f"records.{index}."))
                        if run.due():
                            run.flush(final=False)
                    run.flush()
        except (LedgerError, DatabaseUnavailable) as exc:  # the organization, or its transaction, failed
            for index, _ in group:
                outcomes[index] = Outcome("error", error=_named(exc, f"records.{index}."))
    return outcomes


# The record's field each ledger refusal is about.
FIELD_OF = {"organization_not_found": "organization", "member_not_found": "member", "member_removed": "member",
            "idempotency_key_reused": "idempotency_key", "period_closed": "occurred_at"}


def _named(exc: Exception, prefix: str) -> Exception:
    """An error of a record, its field paths under the record's (the engine's
    ``event.model`` is the record's ``model``)."""
    errors = getattr(exc, "errors", None)
    if not errors:
        if not isinstance(exc, LedgerError) or exc.code not in FIELD_OF:
            return exc
        errors = {FIELD_OF[exc.code]: [exc.message]}
    named = {f"{prefix}{path.removeprefix('event.')}": messages for path, messages in errors.items()}
    if isinstance(exc, InputError):
        message = next(iter(m for msgs in errors.values() for m in msgs), exc.code)
        return InvalidInput(message, exc.code, named)
    return type(exc)(exc.message, exc.code, named)
