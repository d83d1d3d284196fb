"""The usage path's statements, SQLAlchemy Core, built once at import (each
compiles once per dialect into SQLAlchemy's statement cache), and the two
reads that give one organization's state for any number of usage records:

1. ``lock``: the organization's row, ``FOR UPDATE`` (``read``: unlocked);
2. ``state``: one ``UNION ALL`` of the members named, the idempotency keys
   given, the month-to-date counters, the limits and the highest thresholds
   notified, for the subjects those members count towards, and whether an
   automatic top-up is set.

Everything is keyed by the organization (its ``org_pk``): see
docs/scaling.md, and tests/ledger/test_ledger_distribution.py which reads
these statements.

Writes go through ``write``; notifications through ``insert_notifications``,
the one place the usage path writes Notification rows without the ORM (a
session event on Notification does not see them: hook this function).
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (ARRAY, BigInteger, Date, Integer, String, Text, any_, bindparam, cast, func, insert,
                        literal, null, or_, select, union_all, update)

from . import direct, repository as repo
from .webhooks import outbox
from .models import AutoTopUp, CreditEntry, Limit, Member, Notification, Organization, SpendCounter, UsageRecord
from .types import Money, UTCDateTime
from .views import TOKEN_COLUMNS

ORG, MEM, USE = Organization.__table__, Member.__table__, UsageRecord.__table__
CNT, LIM, NOTE, CRED = SpendCounter.__table__, Limit.__table__, Notification.__table__, CreditEntry.__table__
TOP = AutoTopUp.__table__

_ORG_COLUMNS = (ORG.c.pk, ORG.c.id, ORG.c.plan, ORG.c.channel, ORG.c.term_start, ORG.c.hipaa_seats,
                ORG.c.extra_usage, ORG.c.credit_balance, ORG.c.closed_through)
# By pk (repository.org_pk) and id: on the organization's shard, and no other organization's.
READ_ORG = select(*_ORG_COLUMNS).where(ORG.c.pk == bindparam("pk"), ORG.c.id == bindparam("org"))
LOCK_ORG = READ_ORG.with_for_update()

_ORG_PK = bindparam("org_pk", type_=Integer)


def _row(kind, period=None, level=None, subject=None, amount=None, included=None, number=None, text=None,
         text2=None, when=None, until=None):
    """One branch of STATE, in its eleven columns (typed, so every branch lines up)."""
    def typed(value, type_):
        return cast(null(), type_) if value is None else value
    return (literal(kind, String).label("kind"), typed(period, Date).label("period"),
            typed(level, String).label("level"), typed(subject, String).label("subject"),
            typed(amount, Money).label("amount"), typed(included, Money).label("included"),
            typed(number, BigInteger).label("number"), typed(text, Text).label("text"),
            typed(text2, Text).label("text2"), typed(when, UTCDateTime).label("at"),
            typed(until, UTCDateTime).label("until"))


def _state_statement(among):
    """The state's statement; ``among(column, name, type_)``: the column's value is one of
    the list given as parameter ``name`` (the member ids, the keys, the periods)."""
    ids, keys = partial(among, name="ids", type_=String), partial(among, name="keys", type_=String)
    periods = partial(among, name="periods", type_=Date)
    # The subjects the named members' spend counts towards: '', their seat types, their ids.
    def subjects(column):
        return or_(column == "", ids(column),
                   column.in_(select(MEM.c.seat_type).where(MEM.c.org_pk == _ORG_PK, ids(MEM.c.id))))
    return union_all(
        select(*_row("m", level=MEM.c.role, subject=MEM.c.id, number=MEM.c.pk, text=MEM.c.seat_type,
                     when=MEM.c.created_at, until=MEM.c.removed_at)).where(MEM.c.org_pk == _ORG_PK, ids(MEM.c.id)),
        select(*_row("k", subject=USE.c.idempotency_key, number=USE.c.pk, text=USE.c.request_hash,
                     text2=USE.c.response)).where(USE.c.org_pk == _ORG_PK, keys(USE.c.idempotency_key)),
        select(*_row("c", period=CNT.c.period_start, level=CNT.c.level, subject=CNT.c.subject, amount=CNT.c.spend,
                     included=CNT.c.included, number=CNT.c.records))
        .where(CNT.c.org_pk == _ORG_PK, periods(CNT.c.period_start), subjects(CNT.c.subject)),
        select(*_row("l", level=LIM.c.level, subject=LIM.c.subject, amount=LIM.c.amount))
        .where(LIM.c.org_pk == _ORG_PK, LIM.c.ended_on.is_(None), subjects(LIM.c.subject)),
        select(*_row("n", period=NOTE.c.period_start, level=NOTE.c.level, subject=NOTE.c.subject,
                     number=func.max(NOTE.c.threshold_pct)))
        .where(NOTE.c.org_pk == _ORG_PK, periods(NOTE.c.period_start), subjects(NOTE.c.subject))
        .group_by(NOTE.c.period_start, NOTE.c.level, NOTE.c.subject),
        # whether an automatic top-up is set (no: the usage path skips top_ups' own read)
        select(*_row("t", number=TOP.c.pk)).where(TOP.c.org_pk == _ORG_PK),
    )


# Lists as expanding INs (a statement per count of values), and on PostgreSQL a batch's
# long lists each as one array parameter (``= ANY``): direct.LongLists.
STATE = _state_statement(lambda column, name, type_: column.in_(bindparam(name, expanding=True, type_=type_)))
STATE_ARRAYS = _state_statement(lambda column, name, type_: column == any_(bindparam(name, type_=ARRAY(type_))))

# The usage records' ids are taken before they are written: the answer kept with
# a record (and sent back) carries its id, encoded once (ingest.Run._apply); every
# insert is a plain executemany (one big INSERT ... RETURNING cost psycopg more to
# parse than the database to run), and on PostgreSQL a single record's id comes in
# the pipeline of its reads. From the table's sequence on PostgreSQL; on SQLite,
# under its write lock, after the highest.
NEXT_PKS = select(func.nextval(func.pg_get_serial_sequence("usage_records", "pk"))) \
    .select_from(func.generate_series(1, bindparam("n", type_=Integer)))
LAST_PK = select(func.max(USE.c.pk))
INSERT_USAGE = insert(USE)
# inline: no RETURNING of the new ids (nothing reads them), so a run's entries, like its
# usage rows, go many to a statement on psycopg (direct.ROWS_PER_STATEMENT)
INSERT_CREDIT = insert(CRED).inline()
INSERT_COUNTER = insert(CNT)
UPDATE_COUNTER = update(CNT).where(CNT.c.org_pk == bindparam("o_pk"), CNT.c.period_start == bindparam("o_period"),
                                   CNT.c.level == bindparam("o_level"), CNT.c.subject == bindparam("o_subject")) \
    .values(spend=bindparam("spend"), included=bindparam("included"), records=bindparam("records"))
UPDATE_BALANCE = update(ORG).where(ORG.c.pk == bindparam("o_pk")).values(credit_balance=bindparam("balance"))
INSERT_NOTIFICATION = insert(NOTE)

# The hot ones, run straight on the DBAPI cursor (direct.py: same SQL and processors,
# without SQLAlchemy's per-execution work). An INSERT names the keys its rows carry.
_USAGE_KEYS = ("org_pk", "member_pk", "idempotency_key", "request_hash", "period_start", "occurred_at",
               "recorded_at", "seat_type", "product", "model", "cost", "billed", "included", "request", "response",
               "key_id", "key_name", *TOKEN_COLUMNS.values())
_CREDIT_KEYS = ("org_pk", "kind", "amount", "balance_after", "member_pk", "usage_record_pk", "idempotency_key",
                "request_hash", "created_at")
_COUNTER_KEYS = ("org_pk", "period_start", "level", "subject", "spend", "included", "records")
D_LOCK_ORG, D_READ_ORG = direct.Statement(LOCK_ORG), direct.Statement(READ_ORG)
D_STATE = direct.LongLists(direct.Statement(STATE, expanding=("ids", "keys", "periods")),
                           direct.Statement(STATE_ARRAYS))
D_NEXT_PKS, D_LAST_PK = direct.Statement(NEXT_PKS), direct.Statement(LAST_PK)
D_INSERT_USAGE = direct.Statement(INSERT_USAGE, columns=("pk", *_USAGE_KEYS))
D_INSERT_CREDIT = direct.Statement(INSERT_CREDIT, columns=_CREDIT_KEYS)
D_INSERT_COUNTER = direct.Statement(INSERT_COUNTER, columns=_COUNTER_KEYS)
D_UPDATE_COUNTER = direct.Statement(UPDATE_COUNTER)
D_UPDATE_BALANCE = direct.Statement(UPDATE_BALANCE)


class OrgRow(NamedTuple):
    pk: int
    id: str
    plan: str
    channel: str
    term_start: date
    hipaa_seats: int
    extra_usage: bool
    credit_balance: Decimal
    closed_through: date | None


@dataclass
class MemberRow:
    pk: int
    id: str
    role: str
    seat_type: str
    created_at: datetime
    removed_at: datetime | None


@dataclass
class Counter:
    spend: Decimal
    included: Decimal
    records: int
    stored: bool  # a row exists (update) or not yet (insert)
    changed: bool = False


@dataclass
class State:
    """One organization's state for a set of usage records, read in one statement."""
    members: dict[str, MemberRow] = field(default_factory=dict)
    keys: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)  # key -> pk, hash, response
    counters: dict[tuple[date, str, str], Counter] = field(default_factory=dict)
    limits: dict[tuple[str, str], Decimal | None] = field(default_factory=dict)  # None: unlimited
    notified: dict[tuple[date, str, str], int] = field(default_factory=dict)
    top_up: bool = False  # an automatic top-up is set


# Statements run on the session's connection (``conn``: session.connection(),
# taken once per run): the same transaction, without the ORM's per-statement
# work (none of these rows are ORM objects).

def org_row(conn, org_id: str, lock: bool) -> OrgRow | None:
    """The organization's row, by its pk (repository.org_pk: on its shard) and its id."""
    row = repo.by_org_pk(conn, org_id, lambda pk: (D_LOCK_ORG if lock else D_READ_ORG).first(
        conn, {"pk": pk, "org": org_id}))
    return None if row is None else OrgRow(*row)


def read(conn, org_id: str, lock: bool, members: list[str], keys: list[str], periods: list[date],
         ahead: int = 0, held: direct.HeldPipeline | None = None
         ) -> tuple[OrgRow | None, State | None, list[int] | None]:
    """The organization (locked: ``lock``) and its state, in two statements. On PostgreSQL
    both go in one pipeline: the state's statement runs after the lock is granted (READ
    COMMITTED: its own snapshot, then), so it sees every commit before ours, as when sent
    on its own. ``ahead``: that many usage record ids taken in the same pipeline
    (``new_pks``), else None. ``held``: that pipeline is opened and left open for the
    writes (the caller closes it), when the reads took it."""
    pk = repo.org_pk(conn, org_id)
    if pk is None:
        return None, None, None
    params = _state_params(pk, members, keys, periods)
    if direct.pipelines(conn) and D_STATE.direct(conn, params):
        if held is not None:
            held.open()
        with direct.pipeline(conn) if held is None else nullcontext():
            first = (D_LOCK_ORG if lock else D_READ_ORG).send(conn, {"pk": pk, "org": org_id})
            then = D_STATE.send(conn, params)
            ids = D_NEXT_PKS.send(conn, {"n": ahead}) if ahead else None
            row, rows, pks = first.first(), then.rows(), ids and [pk for (pk,) in ids.rows()]
        if row is not None:
            return OrgRow(*row), _state(rows), pks
        if held is not None:
            held.close()
        if repo.org_pk(conn, org_id, fresh=True) is None:  # the kept pk was stale (kept from a
            return None, None, None  # transaction rolled back): read afresh, then the row on its own
    org = org_row(conn, org_id, lock)
    if org is None:
        return None, None, None
    return org, state(conn, org.pk, members, keys, periods), None


def _state_params(org_pk: int, members: list[str], keys: list[str], periods: list[date]) -> dict:
    return {"org_pk": org_pk, "ids": members or [""], "keys": keys or [""], "periods": periods or [date(1, 1, 1)]}


def state(conn, org_pk: int, members: list[str], keys: list[str], periods: list[date]) -> State:
    return _state(D_STATE.rows(conn, _state_params(org_pk, members, keys, periods)))


def _state(rows) -> State:
    out = State()
    for kind, period, level, subject, amount, included, number, text, text2, when, until in rows:
        if kind == "m":
            out.members[subject] = MemberRow(number, subject, level, text, when, until)
        elif kind == "k":
            out.keys[subject] = (number, text, text2)
        elif kind == "c":
            out.counters[(period, level, subject)] = Counter(amount, included, number, True)
        elif kind == "l":
            out.limits[(level, subject)] = amount
        elif kind == "n":
            out.notified[(period, level, subject)] = number
        else:
            out.top_up = True
    return out


def write(conn, org_pk: int, usage: list[dict], credits: list[dict], counters: dict[tuple[date, str, str], Counter],
          balance: Decimal | None, held: bool = False) -> None:
    """Write what a run of records did: ``usage`` rows carry their ids (taken ahead:
    ``new_pks``), ``credits`` the id of their record. ``held``: a pipeline is held open
    (direct.HeldPipeline): everything is sent, nothing waited for. Notifications go
    through ``insert_notifications`` (the session: no pipeline may be open then)."""
    if not usage:
        return
    new, old = [], []
    for (period, level, subject), c in counters.items():
        if not c.changed:
            continue
        values = {"spend": c.spend, "included": c.included, "records": c.records}
        if c.stored:
            old.append({"o_pk": org_pk, "o_period": period, "o_level": level, "o_subject": subject, **values})
        else:
            new.append({"org_pk": org_pk, "period_start": period, "level": level, "subject": subject, **values})
            c.stored = True
        c.changed = False
    # None of it answers anything we wait for: on PostgreSQL, one pipeline (one round trip).
    with nullcontext() if held or not direct.pipelines(conn) else direct.pipeline(conn):
        D_INSERT_USAGE.run(conn, usage)
        if credits:
            D_INSERT_CREDIT.run(conn, credits)
        if old:
            D_UPDATE_COUNTER.run(conn, old)
        if new:
            D_INSERT_COUNTER.run(conn, new)
        if balance is not None:
            D_UPDATE_BALANCE.run(conn, {"o_pk": org_pk, "balance": balance})


def new_pks(conn, count: int) -> list[int]:
    """``count`` ids for usage records about to be written in this transaction."""
    if conn.dialect.name == "postgresql":
        return [pk for (pk,) in D_NEXT_PKS.rows(conn, {"n": count})]
    (last,) = D_LAST_PK.first(conn, {})
    return list(range((last or 0) + 1, (last or 0) + 1 + count))


def insert_notifications(session, rows: list[dict]) -> None:
    """Spend notifications the usage path sends (M3), written with Core: the
    one place to hook for an outbox (the ORM's session events do not see these)."""
    if rows:
        session.execute(INSERT_NOTIFICATION, rows)
        outbox.notified(session, rows)  # webhooks: the session events do not see Core inserts
