"""The decision request: what a caller sends, validated field by field.

Unknown fields are errors (a typo must not be silently ignored), amounts are
exact decimals (a binary float is refused), token counts are whole numbers.
Which fields an event needs is declared in ``EVENT_FIELDS``.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .. import facts as F
from ..errors import InputError
from ..money import AmountError, to_nano
from ..load.rate_card import TOKEN_CLASSES

UNLIMITED = "unlimited"
ROLES = ("primary_owner", "owner", "admin", "member")
CHANNELS = ("self_serve", "sales_assisted")


class Money(fields.Decimal):
    """USD as an exact decimal: strings or decimals, never floats."""

    def __init__(self, *, minimum: Decimal | None = Decimal(0), **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (float, bool)):
            raise ValidationError("send amounts as decimal strings, not binary floats or booleans")
        amount = super()._deserialize(value, attr, data, **kwargs)
        if not amount.is_finite():
            raise ValidationError("not a finite amount")
        if self.minimum is not None and amount < self.minimum:
            raise ValidationError(f"must be at least {self.minimum}")
        try:
            to_nano(amount)
        except AmountError as exc:
            raise ValidationError(str(exc)) from exc
        return amount


class Limit(Money):
    """A spend limit: an amount, or "unlimited"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == UNLIMITED:
            return UNLIMITED
        return super()._deserialize(value, attr, data, **kwargs)


# Billing dates: wide enough for any contract, and far from date.max, where
# period arithmetic (next month, a year's term) would overflow.
DATES = validate.Range(min=date(2000, 1, 1), max=date(2999, 12, 31))


class Strict(Schema):
    class Meta:
        unknown = RAISE


class LevelSchema(Strict):
    spend = Money()
    limit = Limit(allow_none=True)
    notified_pct = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000), load_default=0)


class OrganizationSchema(LevelSchema):
    id = fields.String()
    term_start = fields.Date(validate=DATES)
    credit_balance = Money(minimum=None)
    seats = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True, validate=validate.Range(min=0)))
    hipaa_seats = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)
    extra_usage = fields.Boolean(load_default=False)


class MemberSchema(LevelSchema):
    id = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    seat_type = fields.String()
    included_used = Money()


class TokensSchema(Strict):
    input = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)
    output = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)
    cache_write_5m = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)
    cache_write_1h = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)
    cache_read = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)


# For each event: (required fields, optional fields).
EVENT_FIELDS = {
    "usage_precheck": ({"product"}, {"estimate", "model"}),
    "usage": ({"product", "model", "tokens"}, set()),
    "seats_added": ({"count"}, {"seat_type", "hipaa"}),
    "seat_removal": ({"count"}, {"seat_type"}),
    "seat_type_change": ({"from", "to"}, set()),
    "limit_change": ({"level", "limit"}, set()),
    "credit_purchase": ({"amount"}, set()),
    "disable_usage_billing": (set(), set()),
    "period_start": (set(), set()),
    "renewal": (set(), set()),
    "early_migration": (set(), set()),
}
# Events decided for the organization as a whole: no acting member.
SYSTEM_EVENTS = {"period_start", "renewal"}
TERM_EVENTS = {"seats_added", "seat_removal", "seat_type_change", "renewal"}


def _event_fields() -> dict:
    """Every event field, as each event type that has it reads it."""
    return {
        "product": fields.String(),
        "model": fields.String(validate=validate.Length(min=1, max=200)),
        "tokens": fields.Nested(TokensSchema),
        "estimate": Money(),
        "seat_type": fields.String(),
        "count": fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000)),
        "hipaa": fields.Boolean(),
        "from_": fields.String(data_key="from", attribute="from"),
        "to": fields.String(),
        "level": fields.String(validate=validate.OneOf(F.LEVELS)),
        "limit": Limit(),
        "amount": Money(validate=validate.Range(min=Decimal("0.01"))),
    }


def _event_schema(kind: str) -> Schema:
    """A schema with exactly the fields of one event type: each request is
    checked against its own event's fields only (fewer fields, no hook)."""
    required, optional = EVENT_FIELDS[kind]
    own = {}
    for name, field in _event_fields().items():
        key = "from" if name == "from_" else name
        if key in required or key in optional:
            field.required = key in required
            own[name] = field
    own["type"] = fields.String(required=True)
    if "tokens" in own:
        own["_tokens_present"] = validates_schema(_tokens_present)
    return type(f"{kind.title().replace('_', '')}EventSchema", (Strict,), own)()


def _tokens_present(self, data, **kwargs):
    if "tokens" in data and not any(data["tokens"].values()):
        raise ValidationError({"tokens": ["at least one token count must be positive"]})


_EVENT_SCHEMAS = {kind: _event_schema(kind) for kind in EVENT_FIELDS}


class EventSchema(Strict):
    """Every field of every event type, for documentation. Loading goes by the
    event's type to that type's own schema (``EventField``)."""
    type = fields.String(required=True, validate=validate.OneOf(F.EVENTS))
    locals().update(_event_fields())


class EventField(fields.Nested):
    def __init__(self, **kwargs):
        super().__init__(EventSchema, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("an event is an object with a `type`")
        kind = value.get("type")
        schema = _EVENT_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            raise ValidationError({"type": [f"Must be one of: {', '.join(F.EVENTS)}."]})
        return schema.load(value)


class RequestSchema(Strict):
    plan = fields.String(required=True)
    as_of = fields.Date(required=True, validate=DATES)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    organization = fields.Nested(OrganizationSchema, load_default=dict)
    seat_type_pool = fields.Nested(LevelSchema)
    member = fields.Nested(MemberSchema)
    event = EventField(required=True)

    @validates_schema
    def _facts_the_event_needs(self, data, **kwargs):
        event = data.get("event") or {}
        kind = event.get("type")
        errors: dict = {}
        member = data.get("member")
        if kind and kind not in SYSTEM_EVENTS and member is None:
            errors["member"] = [f"the acting member is needed for a {kind} event"]
        elif member is not None and "role" not in member:
            errors["member"] = {"role": ["Missing data for required field."]}
        if kind in TERM_EVENTS and "term_start" not in data.get("organization", {}):
            errors.setdefault("organization", {})["term_start"] = [f"needed for a {kind} event"]
        if kind == "renewal" and "seats" not in data.get("organization", {}):
            errors.setdefault("organization", {})["seats"] = ["needed for a renewal event"]
        if kind in ("usage_precheck", "usage"):
            if "spend" not in data.get("organization", {}):
                errors.setdefault("organization", {})["spend"] = [f"month-to-date spend is needed for {kind}"]
            member = data.get("member") or {}
            if "member" in data and "spend" not in member:
                errors["member"] = {"spend": [f"month-to-date spend is needed for {kind}"]}
        if errors:
            raise ValidationError(errors)


def _flatten(messages, prefix="") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for p, m in _flatten(value, path).items():
                out.setdefault(p, []).extend(m)
    elif isinstance(messages, list):
        for m in messages:
            if isinstance(m, (dict, list)):
                for p, mm in _flatten(m, prefix).items():
                    out.setdefault(p, []).extend(mm)
            else:
                out.setdefault(prefix or "request", []).append(str(m))
    return out


_SCHEMA = RequestSchema()


def parse_request(payload) -> dict:
    """Validate a decision request; raise InputError naming every bad field."""
    if not isinstance(payload, dict):
        raise InputError.field("invalid_request", "request", "a decision request is a JSON object")
    quick = accept_well_formed(payload)
    if quick is not None:
        return quick
    try:
        return _SCHEMA.load(payload)
    except ValidationError as exc:
        raise InputError("invalid_request", _flatten(exc.messages)) from None


# Last: the quick path reads this module's tables (EVENT_FIELDS, DATES, ...).
from .quick import accept_well_formed  # noqa: E402
