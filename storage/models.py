"""The ledger's tables (SQLAlchemy 2 declarative).

Internal integer keys (``pk``) join the tables; the public ids callers use
(``Organization.id``, ``Member.id``) are strings, unique per organization for
members. Money columns are ``Money`` (exact, see types.py).

Running totals kept beside the ledger, and the ledger rows they summarise:

- ``Organization.credit_balance`` = sum of ``CreditEntry.amount``;
- ``SpendCounter`` (month-to-date spend per level) = sums of
  ``UsageRecord.billed`` / ``.included`` for the period.

``storage.verify.check_ledger`` recomputes both from the ledger rows; the
tests run it after every scenario.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, ForeignKey, ForeignKeyConstraint, Index, Integer,
                        MetaData, PrimaryKeyConstraint, String, Text, UniqueConstraint, and_)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import Money, UTCDateTime

# BIGINT keys on PostgreSQL; SQLite only auto-increments "INTEGER PRIMARY KEY".
BigKey = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def org_key(table: str, *, sqlite_index: bool = False) -> tuple:
    """The key of a table distributed by organization (docs/scaling.md): ``(org_pk, pk)``.

    PostgreSQL (and Citus) have it as the primary key; ``pk`` is still drawn from one
    sequence. SQLite auto-increments only a lone ``INTEGER PRIMARY KEY`` (the rowid), so
    there ``pk`` alone stays the primary key (unique by itself, so ``(org_pk, pk)`` is
    too; SQLite is one node, never distributed). ``sqlite_index``: SQLite gets a unique
    index on ``(org_pk, pk)``, which a foreign key to the table (``org_fk``) needs there
    and reads of an organization's rows in key order use; PostgreSQL's primary key is
    that index already."""
    key: tuple = (PrimaryKeyConstraint("org_pk", "pk", name=f"pk_{table}"),)
    if sqlite_index:
        key += (Index(f"uq_{table}_org_pk_pk", "org_pk", "pk", unique=True).ddl_if(dialect="sqlite"),)
    return key


def org_fk(table: str, column: str, parent: str) -> ForeignKeyConstraint:
    """A key to a row of the same organization, ``(org_pk, column)`` -> ``parent(org_pk, pk)``:
    Citus joins distributed tables on their distribution column; named as the one-column
    key it replaced."""
    return ForeignKeyConstraint(["org_pk", column], [f"{parent}.org_pk", f"{parent}.pk"],
                                name=f"fk_{table}_{column}_{parent}")


def within(child: str, column: str, parent: str) -> str:
    """A relationship's join along an ``org_fk``: the child's ``column`` alone is what the
    relationship sets (``foreign``); ``org_pk`` is part of the child's own key, set with the
    row, never cleared or copied by the ORM (SQLAlchemy's "overlapping foreign keys")."""
    return f"and_({child}.org_pk == {parent}.org_pk, foreign({child}.{column}) == {parent}.pk)"


def joined(column, parent):
    """A query's join along an ``org_fk`` (``column``, of the child's class) to ``parent``:
    on ``org_pk`` too, as ``within``. Citus joins two distributed tables only on their
    distribution column (co-located shards); on ``pk`` alone it refuses the join
    ("requires repartitioning")."""
    return and_(parent.org_pk == column.class_.org_pk, parent.pk == column)


class OrganizationId(Base):
    """The organizations' public ids, each naming one organization for ever (organizations
    are never deleted). Unique here, and not on ``organizations``: that table is
    distributed by ``pk``, and Citus keeps unique only what includes the distribution
    column; this one is shared (a reference table, docs/scaling.md). A lookup by id finds
    the pk here first (repository.org_pk), so the organization's row is then read, and
    locked, on its shard. Written with the organization, in its transaction."""
    __tablename__ = "organization_ids"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: a shared table points at no distributed one (Citus refuses it).
    org_pk: Mapped[int] = mapped_column(Integer, unique=True)


class Organization(Base):
    __tablename__ = "organizations"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), index=True)  # unique in organization_ids
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    term_start: Mapped[date] = mapped_column(Date)
    renewal_date: Mapped[date] = mapped_column(Date, index=True)
    hipaa_seats: Mapped[int] = mapped_column(Integer, default=0)
    extra_usage: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_balance: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # The last billing period (its first day) that has been closed; None: none yet.
    closed_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    seat_counts: Mapped[list[SeatCount]] = relationship(order_by="SeatCount.seat_type",
                                                        cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("hipaa_seats >= 0", name="hipaa_seats"),)

    @property
    def seats(self) -> dict[str, int]:
        return {s.seat_type: s.count for s in self.seat_counts}


class SeatCount(Base):
    """Seats bought, by seat type. Members occupy seats; never more than bought."""
    __tablename__ = "seat_counts"
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"), primary_key=True)
    seat_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("count >= 0", name="count"),)


class Member(Base):
    __tablename__ = "members"
    pk: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    seat_type: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the member is removed: the row stays for their usage, charges
    # and invoice lines; the seat is free and the id is not given again.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (*org_key("members", sqlite_index=True),
                      UniqueConstraint("org_pk", "id"), Index("ix_members_org_seat_type", "org_pk", "seat_type"))


class Limit(Base):
    """A spend limit: level organization (subject ''), seat_type (subject: the
    seat type) or individual (subject: the member's id). No row: not set."""
    __tablename__ = "limits"
    pk: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    level: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)  # None: unlimited
    set_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Ended with its level (a renewal to a plan without it, D11): kept for the
    # history, out of every decision.
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    __table_args__ = (*org_key("limits"), org_fk("limits", "set_by", "members"),
                      UniqueConstraint("org_pk", "level", "subject"))


class CreditEntry(Base):
    """The credit ledger: purchases (+) and consumption (-), append-only."""
    __tablename__ = "credit_entries"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    kind: Mapped[str] = mapped_column(String(16))  # purchase | consumption
    amount: Mapped[Decimal] = mapped_column(Money)
    balance_after: Mapped[Decimal] = mapped_column(Money)
    member_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    usage_record_pk: Mapped[int | None] = mapped_column(BigKey, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    usage_record: Mapped[UsageRecord | None] = relationship(primaryjoin=within("CreditEntry", "usage_record_pk",
                                                                                "UsageRecord"))
    __table_args__ = (*org_key("credit_entries", sqlite_index=True),
                      org_fk("credit_entries", "member_pk", "members"),
                      org_fk("credit_entries", "usage_record_pk", "usage_records"),
                      UniqueConstraint("org_pk", "idempotency_key"))


class AutoTopUp(Base):
    """An organization's automatic top-up of credits: when a usage takes the
    balance below ``below``, buy ``amount`` in the same transaction, as the
    owner who set it (the policy decides each purchase), at most
    ``monthly_cap`` in a billing period. One per organization."""
    __tablename__ = "auto_top_ups"
    pk: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"), unique=True)
    below: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    monthly_cap: Mapped[Decimal] = mapped_column(Money)
    member_pk: Mapped[int] = mapped_column(Integer)  # who set it: the purchases are theirs
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (*org_key("auto_top_ups"), org_fk("auto_top_ups", "member_pk", "members"))


class UsageRecord(Base):
    """One charged usage. The idempotency key is unique per organization: a
    retry finds the record and gets its first response back."""
    __tablename__ = "usage_records"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    member_pk: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seat_type: Mapped[str] = mapped_column(String(32))
    product: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_5m_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_1h_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[Decimal] = mapped_column(Money)  # value at API rates
    billed: Mapped[Decimal] = mapped_column(Money)  # what it adds to spend (and takes from credits)
    included: Mapped[Decimal] = mapped_column(Money)  # drawn from a seat's allowance (seat-based plans)
    request: Mapped[str | None] = mapped_column(Text, nullable=True)  # the engine request, for replays
    response: Mapped[str | None] = mapped_column(Text, nullable=True)  # the first response (JSON, id aside), for retries
    # Who recorded it (storage/caller.py: the API key, or a session's issuing
    # key; None from the CLI or a job), as events keep it: the audit trail.
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    __table_args__ = (*org_key("usage_records", sqlite_index=True), org_fk("usage_records", "member_pk", "members"),
                      UniqueConstraint("org_pk", "idempotency_key"),
                      Index("ix_usage_records_org_period_member", "org_pk", "period_start", "member_pk"))


class SpendCounter(Base):
    """Month-to-date spend of one level's subject: kept beside usage_records."""
    __tablename__ = "spend_counters"
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)  # '', seat type, or member pk
    spend: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    included: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    records: Mapped[int] = mapped_column(BigInteger, default=0)  # a month's count: past 2**31 at 830/s


class Notification(Base):
    """A spend threshold notification sent (M3): once per period per subject."""
    __tablename__ = "notifications"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    period_start: Mapped[date] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))  # '', seat type, or member id
    threshold_pct: Mapped[int] = mapped_column(Integer)
    spend: Mapped[Decimal] = mapped_column(Money)
    limit: Mapped[Decimal] = mapped_column(Money)
    member_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    usage_record_pk: Mapped[int | None] = mapped_column(BigKey, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Issue 13 item 4: notifications a forecast asks for (storage/forecast.py).
    # ``code`` is the vocabulary's notification id; ``detail`` its params as
    # JSON; threshold_pct is 0. credits_running_out: level 'credits', the last
    # credit purchase's pk as subject (one per period and purchase);
    # spend_limit_running_out: level 'organization', subject '' (one per period);
    # credits_topped_up (storage/top_ups.py, D18): level 'credits', subject
    # 'top-up <credit entry pk>', the balance the purchase left as limit.
    code: Mapped[str] = mapped_column(String(32), default="spend_threshold", server_default="spend_threshold")
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    usage_record: Mapped[UsageRecord | None] = relationship(primaryjoin=within("Notification", "usage_record_pk",
                                                                                "UsageRecord"))
    __table_args__ = (*org_key("notifications"), org_fk("notifications", "member_pk", "members"),
                      org_fk("notifications", "usage_record_pk", "usage_records"),
                      UniqueConstraint("org_pk", "period_start", "level", "subject", "threshold_pct"))


class SeatChange(Base):
    """Seats added or removed, a member's seat type changed, a term renewed."""
    __tablename__ = "seat_changes"
    pk: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    kind: Mapped[str] = mapped_column(String(16))  # initial | add | remove | type_change | renewal | period_fee
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied | scheduled | cancelled
    seat_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_seat_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    hipaa: Mapped[bool] = mapped_column(Boolean, default=False)
    member_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    effective_on: Mapped[date] = mapped_column(Date)
    charged: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: plans, transition
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    charges: Mapped[list[Charge]] = relationship(back_populates="seat_change", order_by="Charge.pk",
                                                 primaryjoin=within("Charge", "seat_change_pk", "SeatChange"))
    __table_args__ = (*org_key("seat_changes", sqlite_index=True), org_fk("seat_changes", "member_pk", "members"),
                      org_fk("seat_changes", "actor_pk", "members"))


class Charge(Base):
    """A seat charge line (seat fee, HIPAA add-on, seat upgrade), exact."""
    __tablename__ = "charges"
    pk: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    seat_change_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    period_start: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    item: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seat_change: Mapped[SeatChange | None] = relationship(back_populates="charges",
                                                          primaryjoin=within("Charge", "seat_change_pk", "SeatChange"))
    __table_args__ = (*org_key("charges"), org_fk("charges", "seat_change_pk", "seat_changes"),
                      Index("ix_charges_org_period", "org_pk", "period_start"))


class Invoice(Base):
    __tablename__ = "invoices"
    pk: Mapped[int] = mapped_column(Integer, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    number: Mapped[str] = mapped_column(String(100))  # "<organization id>-YYYY-MM": unique across organizations too
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive: the next period's first day
    plan: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    total: Mapped[Decimal] = mapped_column(Money)
    policy_version: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.position", cascade="all, delete-orphan",
                                                    primaryjoin=within("InvoiceLine", "invoice_pk", "Invoice"))
    __table_args__ = (*org_key("invoices", sqlite_index=True),
                      UniqueConstraint("org_pk", "period_start"), UniqueConstraint("org_pk", "number"))


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))  # the invoice's (docs/scaling.md)
    invoice_pk: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # usage | seat_fee | hipaa_addon | seat_upgrade
    member_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)  # usage records, or seats
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    exact: Mapped[Decimal] = mapped_column(Money)  # before rounding
    amount: Mapped[Decimal] = mapped_column(Money)  # rounded half-up to cents
    __table_args__ = (*org_key("invoice_lines"), org_fk("invoice_lines", "invoice_pk", "invoices"),
                      Index("ix_invoice_lines_invoice", "invoice_pk", "position"))


class Event(Base):
    """Every decision applied other than usage (which has its own table): an audit trail."""
    __tablename__ = "events"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    as_of: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(Text)
    request: Mapped[str | None] = mapped_column(Text, nullable=True)  # the engine request, for replays
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who called (issue 9's audit trail): the key's id and name; None: local mode or before keys.
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    key_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    __table_args__ = (*org_key("events", sqlite_index=True), org_fk("events", "actor_pk", "members"))


class KeptAnswer:
    """The first answer of a request made with an Idempotency-Key (storage/idempotency.py):
    a key is used once, for one operation and one request (``request_hash``), kept for the
    retention window."""
    idempotency_key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotentAnswer(KeptAnswer, Base):
    """Kept answers of an organization's operations: its key, per organization."""
    __tablename__ = "idempotent_answers"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    __table_args__ = (*org_key("idempotent_answers"), UniqueConstraint("org_pk", "idempotency_key"),
                      Index("ix_idempotent_answers_created", "created_at"))


class SharedAnswer(KeptAnswer, Base):
    """Kept answers of operations of no organization, a key per ``scope``: "" for creating
    one and for webhook endpoints (which may serve every organization), "#keys" for API
    keys. Shared (a Citus reference table, docs/scaling.md)."""
    __tablename__ = "shared_answers"
    pk: Mapped[int] = mapped_column(BigKey, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("scope", "idempotency_key"), Index("ix_shared_answers_created", "created_at"))


# -- trust (issue 9): API keys, the session signing secret, who made each event ------------

class ApiKey(Base):
    """A caller's key (storage/keys.py). Only the secret's sha256 is kept; the
    secret itself is shown once, when the key is made. Revoked keys stay (the
    audit trail names them), and their existence keeps the service out of
    local mode."""
    __tablename__ = "keys"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))  # admin | service | read
    organization: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: every organization
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Who made and who revoked it: an admin key's id, "local" (local mode) or "cli" (tariff keys).
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ServiceSecret(Base):
    """Secrets every worker must share, made once (the member sessions'
    signing key when TARIFF_SECRET_KEY is not set)."""
    __tablename__ = "service_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- webhooks (storage/webhooks/): endpoints, the outbox, deliveries -----------

class WebhookEndpoint(Base):
    """A receiver's URL and the secret its deliveries are signed with (kept to
    sign, never answered). ``org_pk`` None: every organization's events;
    ``events`` None: every type, else a JSON list of categories or types."""
    __tablename__ = "webhook_endpoints"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    # No foreign key: endpoints are shared (a Citus reference table, docs/scaling.md), and
    # Citus refuses a key from a shared table to a distributed one. endpoints.create checks
    # the organization; organizations are never deleted.
    org_pk: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(256))
    events: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who registered and who deleted it (the calling key's id; None: local mode
    # or a job), the audit of a change outside any organization's trail, as
    # keys keep theirs. A deleted endpoint is kept, marked, and sent nothing.
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class WebhookEvent(Base):
    """The outbox: one event (its JSON body as sent, byte for byte on every
    attempt), written in the transaction of the change it reports.
    ``dedupe_key``: a block already reported in the same state is not again."""
    __tablename__ = "webhook_events"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64))  # random (outbox.new_id): unique across organizations too
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    type: Mapped[str] = mapped_column(String(100))
    dedupe_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (*org_key("webhook_events", sqlite_index=True),
                      UniqueConstraint("org_pk", "id"), UniqueConstraint("org_pk", "dedupe_key"))


class WebhookDelivery(Base):
    """One event to one endpoint: pending (due at ``next_attempt_at``),
    delivered, or failed (given up ``give_up_s`` after ``window_start``, its
    creation or the last retry by hand). A dispatcher holds it while
    ``lease_until`` is ahead (``lease_token`` says which claim)."""
    __tablename__ = "webhook_deliveries"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    endpoint_pk: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.pk"))
    event_pk: Mapped[int] = mapped_column(BigKey)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the last retry by hand
    retried_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # and the key that asked for it
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[WebhookEvent] = relationship(primaryjoin=within("WebhookDelivery", "event_pk", "WebhookEvent"))
    __table_args__ = (*org_key("webhook_deliveries"), org_fk("webhook_deliveries", "event_pk", "webhook_events"),
                      UniqueConstraint("org_pk", "endpoint_pk", "event_pk"),  # the event's organization
                      Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_endpoint", "endpoint_pk", "pk"))


# -- usage voids (issue 10 item 4): corrections while the period is open -------------

class UsageVoid(Base):
    """A recorded usage taken back while its billing period was open
    (storage/voids.py). The record's ``billed`` and ``included`` go to zero, so
    spend counters and invoices stay sums of the records; what it had is kept
    here, with the credits given back (``credited``; 0 on plans without)."""
    __tablename__ = "usage_voids"
    pk: Mapped[int] = mapped_column(BigKey, autoincrement=True)
    org_pk: Mapped[int] = mapped_column(ForeignKey("organizations.pk"))
    usage_record_pk: Mapped[int] = mapped_column(BigKey)
    billed: Mapped[Decimal] = mapped_column(Money)
    included: Mapped[Decimal] = mapped_column(Money)
    credited: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (*org_key("usage_voids"), org_fk("usage_voids", "usage_record_pk", "usage_records"),
                      UniqueConstraint("org_pk", "usage_record_pk"))
