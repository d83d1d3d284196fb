"""Request and response schemas of the accounts and ledger endpoints.

Requests are strict (a mistyped field is a 422); amounts use the engine's own
``Money`` and ``Limit`` fields (exact decimal strings, never floats), so they
validate and document exactly as in a decision request. Responses document
what the views return (amounts as exact decimal strings; invoice amounts
with two decimals).
"""
from __future__ import annotations

import functools
from decimal import Decimal

from marshmallow import EXCLUDE, Schema, fields, validate

from tariff.engine import CHANNELS, LEVELS, ROLES, TOKEN_CLASSES, Limit, Money, TokensSchema
from tariff.engine import inputs as edge
from tariff.engine.schema import Day
from tariff.storage import inputs

from ..schemas.common import PageQuerySchema, ProblemSchema, Strict, money as amount, page_of  # noqa: F401 (S.page_of)
from ..schemas.decisions import DecisionSchema

ID = {"validate": validate.Regexp(inputs.ID, error=inputs.ID_RULE)}
# A month of the supported days (engine/inputs.py, edge.FIRST_DAY..LAST_DAY).
PERIOD = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"

money = functools.partial(amount, example="12.5")


def actor():
    from ..auth import Actor  # a member session's own member, whoever the body names
    return Actor(required=True, metadata={"description": "id of the member acting; the policy checks their "
                                                         "role. With a member session: the session's member "
                                                         "(may be omitted; naming another member is 403)",
                                          "example": "pat"})


def cents(**kwargs):
    metadata = {"pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "12.50", **kwargs.pop("metadata", {})}
    return fields.String(metadata=metadata, **kwargs)


def nullable_money(**kwargs):
    return money(allow_none=True, **kwargs)


# -- requests -------------------------------------------------------------------

class NewPrimaryOwnerSchema(Strict):
    id = fields.String(**ID, metadata={"description": "generated when absent"})
    name = fields.String(validate=validate.Length(max=200))
    email = fields.Email()
    seat_type = fields.String(metadata={"description": "needed when the plan has several seat types"})


class OrganizationCreateSchema(Strict):
    id = fields.String(**ID, metadata={"description": "generated when absent", "example": "acme"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    plan = fields.String(required=True, metadata={"example": "enterprise_self_serve"})
    channel = fields.String(validate=validate.OneOf(CHANNELS),
                            metadata={"description": "needed when the plan is sold on both"})
    term_start = Day(required=True, metadata={"description": "first day of the annual term"})
    seats = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True, validate=validate.Range(0, 1_000_000)),
                        required=True, metadata={"example": {"enterprise": 5}})
    hipaa_seats = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000), load_default=0)
    extra_usage = fields.Boolean(load_default=False)
    primary_owner = fields.Nested(NewPrimaryOwnerSchema, required=True)


class OrganizationUpdateSchema(Strict):
    actor = actor()
    name = fields.String(validate=validate.Length(min=1, max=200))
    extra_usage = fields.Boolean(metadata={"description": "seat-based plans (P2); off goes through the policy"})


class MemberCreateSchema(Strict):
    actor = actor()
    id = fields.String(**ID, metadata={"description": "generated when absent", "example": "ana"})
    role = fields.String(validate=validate.OneOf(ROLES), load_default="member")
    seat_type = fields.String(metadata={"description": "needed when the organization has seats of several types"})
    name = fields.String(validate=validate.Length(max=200))
    email = fields.Email()


class MemberUpdateSchema(Strict):
    actor = actor()
    role = fields.String(validate=validate.OneOf(ROLES))
    seat_type = fields.String(metadata={"description": "S7: decided by the policy; a dearer seat is charged"})


class OwnerTransferSchema(Strict):
    actor = actor()
    to = fields.String(required=True, metadata={"description": "the current member who becomes primary owner",
                                                "example": "ana"})


class MemberListQuerySchema(PageQuerySchema):
    removed = fields.Boolean(load_default=False, metadata={"description": "include removed members"})


class SeatsAddSchema(Strict):
    actor = actor()
    count = fields.Integer(strict=True, required=True, validate=validate.Range(1, 1_000_000))
    seat_type = fields.String()
    hipaa = fields.Boolean(load_default=False)


class SeatsRemoveSchema(Strict):
    actor = actor()
    count = fields.Integer(strict=True, required=True, validate=validate.Range(1, 1_000_000))
    seat_type = fields.String()
    at_renewal = fields.Boolean(load_default=False, metadata={"description": "schedule the removal for the "
                                                                            "renewal date (S4)"})


class ActorSchema(Strict):
    actor = actor()


class LimitSetSchema(Strict):
    actor = actor()
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    subject = fields.String(metadata={"description": "seat_type level: the seat type; individual: the member id"})
    limit = Limit(required=True)


class CreditPurchaseSchema(Strict):
    actor = actor()
    amount = Money(required=True, validate=validate.Range(min=Decimal("0.01")))


class AutoTopUpSetSchema(Strict):
    actor = actor()
    below = Money(required=True, validate=validate.Range(min=Decimal("0")),
                  metadata={"description": "buy when a usage takes the balance below this"})
    amount = Money(required=True, validate=validate.Range(min=Decimal("0.01")),
                   metadata={"description": "credits bought each time"})
    monthly_cap = Money(required=True, validate=validate.Range(min=Decimal("0.01")),
                        metadata={"description": "at most this much bought automatically in a billing period"})


class AutoTopUpSchema(Strict):
    enabled = fields.Boolean(required=True)
    below = nullable_money(required=True)
    amount = nullable_money(required=True)
    monthly_cap = nullable_money(required=True)
    set_by = fields.String(required=True, allow_none=True,
                           metadata={"description": "the owner the purchases are decided for"})
    bought_this_period = money(required=True)
    updated_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class IdempotencyHeaderSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # every other header is fine

    idempotency_key = fields.String(data_key="Idempotency-Key", validate=validate.Length(1, 255),
                                    metadata={"description": "a retry with the same key returns the first result"})


class RequiredIdempotencyHeaderSchema(IdempotencyHeaderSchema):
    idempotency_key = fields.String(data_key="Idempotency-Key", required=True, validate=validate.Length(1, 255),
                                    metadata={"description": "unique per usage record: a retry with the same key "
                                                             "returns the first result and never charges twice"})


class UsageAuthorizeSchema(Strict):
    member = fields.String(required=True)
    product = fields.String(required=True, metadata={"example": "chat"})
    model = fields.String(validate=validate.Length(1, 200))
    estimate = Money(metadata={"description": "expected cost, checked up front"})


class UsageRecordSchema(Strict):
    member = fields.String(required=True, metadata={"example": "ana"})
    product = fields.String(required=True, metadata={"example": "chat"})
    model = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "claude-sonnet-4-6"})
    tokens = fields.Nested(TokensSchema, required=True)
    occurred_at = fields.AwareDateTime(validate=edge.check_day, metadata={"description": "when the usage happened (default: now)"})


class UsageListQuerySchema(PageQuerySchema):
    member = fields.String()
    period = fields.String(validate=validate.Regexp(PERIOD), metadata={"example": "2026-04"})


class AsOfQuerySchema(Strict):
    as_of = Day(metadata={"description": "a day of the period to summarise (default: today)"})


class PeriodQuerySchema(Strict):
    period = fields.String(validate=validate.Regexp(PERIOD), metadata={"example": "2026-04"})


class PeriodPageQuerySchema(PageQuerySchema, PeriodQuerySchema):
    pass


class LimitListQuerySchema(Strict):
    ended = fields.Boolean(load_default=False,
                           metadata={"description": "include limits a renewal ended with their level"})


class BillingRunSchema(Strict):
    date = Day(required=True, metadata={"description": "run everything due up to this day"})


# -- responses ------------------------------------------------------------------

class MemberSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    seat_type = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    removed_at = fields.String(required=True, allow_none=True,
                               metadata={"format": "date-time", "description": "set once the member is removed"})


class OrganizationSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True)
    plan = fields.String(required=True)
    channel = fields.String(required=True)
    term_start = fields.String(required=True, metadata={"format": "date"})
    renewal_date = fields.String(required=True, metadata={"format": "date"})
    seats = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    seats_assigned = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    hipaa_seats = fields.Integer(required=True)
    extra_usage = fields.Boolean(required=True)
    prepaid = fields.Boolean(required=True, metadata={"description": "usage is bought in advance as credits"})
    credit_balance = nullable_money(required=True, metadata={"description": "null unless prepaid"})
    closed_through = fields.String(required=True, allow_none=True, metadata={"format": "date",
                                   "description": "first day of the last closed billing period"})
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class OrganizationCreatedSchema(OrganizationSchema):
    primary_owner = fields.Nested(MemberSchema, required=True)


class SeatChargeSchema(Strict):
    kind = fields.String(required=True, metadata={"example": "seat_fee"})
    item = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = money(required=True)
    months = fields.Integer(required=True, allow_none=True)
    amount = money(required=True)
    period_start = fields.String(required=True, metadata={"format": "date"})


class SeatChangeSchema(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["initial", "add", "remove", "type_change",
                                                                 "renewal", "period_fee"]))
    status = fields.String(required=True, validate=validate.OneOf(["applied", "scheduled", "cancelled", "failed"]))
    seat_type = fields.String(required=True, allow_none=True)
    to_seat_type = fields.String(required=True, allow_none=True)
    count = fields.Integer(required=True)
    hipaa = fields.Boolean(required=True)
    member = fields.String(required=True, allow_none=True)
    actor = fields.String(required=True, allow_none=True)
    effective_on = fields.String(required=True, metadata={"format": "date"})
    charged = money(required=True)
    charges = fields.List(fields.Nested(SeatChargeSchema), required=True)
    detail = fields.Dict(required=True, allow_none=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class MemberChangedSchema(MemberSchema):
    seat_change = fields.Nested(SeatChangeSchema, metadata={"description": "when the seat type changed"})


class OwnerTransferredSchema(Strict):
    primary_owner = fields.Nested(MemberSchema, required=True)
    previous = fields.Nested(MemberSchema, required=True, metadata={"description": "now an owner"})


class SeatResultSchema(Strict):
    organization = fields.Nested(OrganizationSchema, required=True)
    seat_change = fields.Nested(SeatChangeSchema, required=True)


class LedgerDecisionSchema(DecisionSchema):
    """The engine's decision the ledger acted on."""
    class Meta:
        exclude = ("decision_id", "trace")


class LimitSchema(Strict):
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    subject = fields.String(required=True, allow_none=True)
    limit = fields.String(required=True, metadata={"example": "500", "description": "USD, or \"unlimited\""})
    updated_at = fields.String(required=True, metadata={"format": "date-time"})
    ended_on = fields.String(required=True, allow_none=True, metadata={
        "format": "date", "description": "the renewal that ended the limit with its level; null while in force"})


class LimitSetResultSchema(LimitSchema):
    decision = fields.Nested(LedgerDecisionSchema, metadata={"description": "present when the policy refused"})


class CreditEntrySchema(Strict):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["purchase", "auto_top_up", "consumption",
                                                                     "usage_void"]))
    amount = money(required=True, metadata={"description": "positive for a purchase, negative for consumption"})
    balance_after = money(required=True)
    member = fields.String(required=True, allow_none=True)
    usage_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class CreditPurchaseResultSchema(Strict):
    entry = fields.Nested(CreditEntrySchema, required=True)
    credit_balance = money(required=True, metadata={"description": "right after this purchase"})
    replayed = fields.Boolean(required=True)


class CreditsSchema(Strict):
    credit_balance = nullable_money(required=True)
    entries = fields.List(fields.Nested(CreditEntrySchema), required=True)
    next = fields.String(required=True, allow_none=True,
                         metadata={"description": "the cursor of the next page of entries; null on the last"})


# A usage record's count of every token class (the engine's TOKEN_CLASSES).
TokenCountsSchema = Strict.from_dict({name: fields.Integer(required=True) for name in TOKEN_CLASSES},
                                     name="TokenCountsSchema")


class UsageSchema(Strict):
    id = fields.Integer(required=True)
    idempotency_key = fields.String(required=True)
    member = fields.String(required=True)
    product = fields.String(required=True)
    model = fields.String(required=True)
    seat_type = fields.String(required=True)
    tokens = fields.Nested(TokenCountsSchema, required=True)
    occurred_at = fields.String(required=True, metadata={"format": "date-time"})
    period_start = fields.String(required=True, metadata={"format": "date"})
    cost = money(required=True, metadata={"description": "value at API rates"})
    billed = money(required=True, metadata={"description": "added to spend (and taken from credits)"})
    included = money(required=True, metadata={"description": "drawn from the seat's allowance (seat-based)"})
    recorded_at = fields.String(required=True, metadata={"format": "date-time"})
    key_id = fields.String(required=True, allow_none=True,
                           metadata={"description": "the key that recorded it (a member session: the key that "
                                                    "issued it), as in the audit trail; null: local mode, the CLI "
                                                    "or a job"})
    key_name = fields.String(required=True, allow_none=True)


class MonthToDateSchema(Strict):
    organization = money(required=True)
    individual = money(required=True)


class UsageResultSchema(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(["allow", "block", "refuse"]))
    recorded = fields.Boolean(required=True, metadata={"description": "false: blocked, nothing charged, the key "
                                                                      "is still unused"})
    usage = fields.Nested(UsageSchema, required=True, allow_none=True)
    decision = fields.Nested(LedgerDecisionSchema, metadata={"description": "present when the policy refused"})
    credit_balance = nullable_money(required=True)
    month_to_date = fields.Nested(MonthToDateSchema, required=True, allow_none=True)
    replayed = fields.Boolean(required=True, metadata={"description": "true: the first result of this key"})


class AuthorizeResultSchema(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(["allow", "block", "refuse"]))
    decision = fields.Nested(LedgerDecisionSchema, metadata={"description": "present when the policy refused"})
    credit_balance = nullable_money(required=True)


class UsageBatchSchema(Strict):
    records = fields.List(fields.Raw(allow_none=True), required=True, validate=validate.Length(max=1000),
                          metadata={"description": "at most 1,000 usage records, each with its organization and "
                                                   "idempotency key (checked one by one: a bad record fails alone)",
                                    "items": {"type": "object", "properties": {
                                        "organization": {"type": "string"}, "idempotency_key": {"type": "string"},
                                        "member": {"type": "string"}, "product": {"type": "string"},
                                        "model": {"type": "string"}, "tokens": {"type": "object"},
                                        "occurred_at": {"type": "string", "format": "date-time"}},
                                        "required": ["organization", "idempotency_key", "member", "product",
                                                     "model", "tokens"]}})


class UsageBatchItemSchema(Strict):
    """A record's result: the answer a single record gets (recorded, replayed, blocked), or its problem."""
    index = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["recorded", "replayed", "blocked", "error"]))
    outcome = fields.String(validate=validate.OneOf(["allow", "block", "refuse"]))
    recorded = fields.Boolean()
    usage = fields.Nested(UsageSchema, allow_none=True)
    decision = fields.Nested(LedgerDecisionSchema, metadata={"description": "blocked: the reasons and ways to "
                                                                           "resume"})
    credit_balance = nullable_money()
    month_to_date = fields.Nested(MonthToDateSchema, allow_none=True)
    replayed = fields.Boolean()
    error = fields.Nested(ProblemSchema, metadata={"description": "status error: the record's problem, naming "
                                                                 "records.<index>.<field>"})


class UsageBatchResultSchema(Strict):
    results = fields.List(fields.Nested(UsageBatchItemSchema), required=True,
                          metadata={"description": "one per record, in order"})


class UsageVoidSchema(Strict):
    reason = fields.String(validate=validate.Length(1, 500), metadata={"description": "kept in the audit entry"})


class UsageVoidResultSchema(Strict):
    usage_id = fields.Integer(required=True)
    voided_at = fields.String(required=True, metadata={"format": "date-time"})
    returned = money(required=True, metadata={"description": "taken off the month's spend (and given back as "
                                                             "credits on prepaid plans)"})
    credit_balance = nullable_money(required=True)
    replayed = fields.Boolean(required=True)


class LimitStatusSchema(Strict):
    limit = fields.String(required=True, allow_none=True, metadata={"description": "USD, \"unlimited\", or null "
                                                                                   "(not set)"})
    spend = money(required=True)
    headroom = nullable_money(required=True)
    used_pct = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(["not_set", "unlimited", "ok", "reached"]))


class SeatTypeSpendSchema(Strict):
    spend = money(required=True)
    limit = fields.Nested(LimitStatusSchema, required=True, allow_none=True)


class ForecastSchema(Strict):
    daily_rate = money(required=True, metadata={"description": "spend so far over the days elapsed (today "
                                                               "counted whole)"})
    month_end_spend = money(required=True, metadata={"description": "at that rate, at the period's end (half-up "
                                                                    "to the nano-dollar)"})
    limit_reached_on = fields.String(required=True, allow_none=True, metadata={
        "format": "date", "description": "the first day a limit is reached at that rate this period (today: "
                                         "reached already; null: not this period)"})
    limit_level = fields.String(required=True, allow_none=True, validate=validate.OneOf(LEVELS))


class OrganizationForecastSchema(ForecastSchema):
    credits_run_out_on = fields.String(required=True, allow_none=True, metadata={
        "format": "date", "description": "prepaid plans: the day credits run out at that rate (today: out "
                                         "already; null: no spend yet, or not prepaid)"})
    days_elapsed = fields.Integer(required=True)
    days_in_period = fields.Integer(required=True)


class DailySpendSchema(Strict):
    date = fields.String(required=True, metadata={"format": "date"})
    spend = money(required=True)


class MemberSpendSchema(Strict):
    id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    role = fields.String(required=True)
    seat_type = fields.String(required=True)
    spend = money(required=True)
    included_used = money(required=True)
    records = fields.Integer(required=True)
    limit = fields.Nested(LimitStatusSchema, required=True, allow_none=True)
    limits_reached = fields.List(fields.String(), required=True)
    credits_exhausted = fields.Boolean(required=True)
    projection = fields.Nested(ForecastSchema, required=True, metadata={
        "description": "the member's own month-end spend; the first of their limits (organization, seat type, "
                       "individual) reached, each at its own spend's rate"})


class UsageSummarySchema(Strict):
    organization = fields.String(required=True)
    plan = fields.String(required=True)
    channel = fields.String(required=True)
    as_of = fields.String(required=True, metadata={"format": "date"})
    period_start = fields.String(required=True, metadata={"format": "date"})
    next_period_start = fields.String(required=True, metadata={"format": "date"})
    prepaid = fields.Boolean(required=True)
    credit_balance = nullable_money(required=True)
    spend = money(required=True)
    limit = fields.Nested(LimitStatusSchema, required=True, allow_none=True)
    seat_types = fields.Dict(keys=fields.String(), values=fields.Nested(SeatTypeSpendSchema), required=True,
                             allow_none=True)
    members = fields.List(fields.Nested(MemberSpendSchema), required=True)
    projection = fields.Nested(OrganizationForecastSchema, required=True)
    daily = fields.List(fields.Nested(DailySpendSchema), required=True, metadata={
        "description": "spend billed on each day of the period so far (UTC days)"})


class InvoiceHeadSchema(Strict):
    organization = fields.String(required=True)
    number = fields.String(required=True, allow_none=True, metadata={"description": "null on a draft"})
    period_start = fields.String(required=True, metadata={"format": "date"})
    period_end = fields.String(required=True, metadata={"format": "date", "description": "exclusive"})
    status = fields.String(required=True, validate=validate.OneOf(["issued", "draft"]))
    plan = fields.String(required=True)
    channel = fields.String(required=True)
    currency = fields.String(required=True, metadata={"example": "USD"})
    total = cents(required=True, metadata={"description": "the sum of the rounded lines"})
    issued_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class InvoiceLineSchema(Strict):
    position = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"example": "usage"})
    member = fields.String(required=True, allow_none=True)
    description = fields.String(required=True)
    quantity = fields.Integer(required=True, metadata={"description": "usage records, or seats"})
    tokens = fields.Integer(required=True)
    exact = money(required=True, metadata={"description": "before rounding"})
    amount = cents(required=True, metadata={"description": "exact, rounded half-up to the cent"})


class InvoiceSchema(InvoiceHeadSchema):
    rounding = fields.String(required=True)
    lines = fields.List(fields.Nested(InvoiceLineSchema), required=True)


class SentNotificationSchema(Strict):
    """A spend threshold reached (M3), a forecast's notice (D17): credits
    running out (level, threshold_pct and limit null; credit_balance) or the
    organization limit running out (threshold_pct null), days and date saying
    when; or an automatic top-up's purchase (D18: amount, credit_balance)."""
    id = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"example": "spend_threshold",
                                                  "description": "spend_threshold, credits_running_out, "
                                                                 "spend_limit_running_out or credits_topped_up"})
    period_start = fields.String(required=True, metadata={"format": "date"})
    level = fields.String(required=True, allow_none=True, validate=validate.OneOf(LEVELS))
    subject = fields.String(required=True, allow_none=True)
    threshold_pct = fields.Integer(required=True, allow_none=True)
    spend = money(required=True)
    limit = money(required=True, allow_none=True)
    member = fields.String(required=True, allow_none=True)
    usage_id = fields.Integer(required=True, allow_none=True)
    sent_at = fields.String(required=True, metadata={"format": "date-time"})
    # a forecast's notice only: at the period's rate so far, credits or the limit run out in `days` days, on `date`
    days = fields.Integer(metadata={"description": "a forecast's notice: days until it runs out"})
    date = fields.String(metadata={"format": "date", "description": "a forecast's notice: the day it runs out"})
    credit_balance = money(metadata={"description": "credits_running_out: the balance when it was sent; "
                                                    "credits_topped_up: the balance the purchase left"})
    amount = money(metadata={"description": "credits_topped_up: what the automatic top-up bought"})


class RenewalSchema(Strict):
    date = fields.String(required=True, metadata={"format": "date"})
    from_plan = fields.String(required=True)
    to_plan = fields.String(required=True)
    transition = fields.Dict(required=True, allow_none=True)
    charged = money(required=True)
    notifications = fields.List(fields.Dict(), required=True, metadata={
        "description": "what the renewal tells the owners, e.g. hipaa_addon_dropped (D11)"})


class InvoiceIssuedSchema(InvoiceHeadSchema):
    class Meta:
        exclude = ("organization",)


class BillingRunResultSchema(Strict):
    organization = fields.String(required=True)
    date = fields.String(required=True, metadata={"format": "date"})
    closed_periods = fields.List(fields.String(metadata={"format": "date"}), required=True)
    invoices = fields.List(fields.Nested(InvoiceIssuedSchema), required=True)
    renewals = fields.List(fields.Nested(RenewalSchema), required=True)
    closed_through = fields.String(required=True, allow_none=True, metadata={"format": "date"})
    organization_state = fields.Nested(OrganizationSchema, required=True)


class BillingRunFailureSchema(Strict):
    organization = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class BillingRunAllSchema(Strict):
    date = fields.String(required=True, metadata={"format": "date"})
    organizations = fields.List(fields.Nested(BillingRunResultSchema), required=True)
    failed = fields.List(fields.Nested(BillingRunFailureSchema), required=True)


class RefusalProblemSchema(ProblemSchema):
    """A change the policy refused: the problem, with the engine's decision
    (reasons citing their rules, ways to resume)."""
    decision = fields.Nested(LedgerDecisionSchema, metadata={"description": "present when the policy refused"})
