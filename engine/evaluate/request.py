"""The decision request: what a caller sends, validated field by field.

Unknown fields are errors (a typo must not be silently ignored), amounts are
exact decimals (a binary float is refused), token counts are whole numbers.
Which fields each event type takes, and what else a request of that type
must carry, is read from the event table (events.py): each event type gets a
schema of exactly its own fields.

``parse_request`` tries the quick path first (quick.py, generated from
RequestSchema below): plainly well-formed requests, typed values included
(``date``, ``Decimal``), are loaded without marshmallow's machinery, with the
same result; anything else goes to marshmallow, which words every error.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..errors import InputError
from ..events import (AMOUNT, COUNT, EVENT_TYPES, EVENTS, FLAG, LEVEL, LIMIT, MODEL, MONEY, ROLE, TEXT, TOKENS,
                      EventType)
from ..inputs import DAYS
from ..schema import Day, Limit, Money, Strict, flatten_messages
from ..vocabulary import CHANNELS, LEVELS, ROLES, TOKEN_CLASSES
from .quick import quick_loader

# Billing dates: the supported days (engine/inputs.py, the one definition).
DATES = DAYS


class LevelSchema(Strict):
    spend = Money()
    limit = Limit(allow_none=True)
    notified_pct = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000), load_default=0)


class OrganizationSchema(LevelSchema):
    id = fields.String()
    term_start = Day(validate=DATES)
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
    locals().update({token_class: fields.Integer(strict=True, validate=validate.Range(min=0), load_default=0)
                     for token_class in TOKEN_CLASSES})


class AnyPositive(validate.Validator):
    """At least one count of a mapping of counts is positive."""
    error = "at least one token count must be positive"

    def __call__(self, value):
        if not any(value.values()):
            raise ValidationError(self.error)
        return value


# Each kind of event field (events.py) as a marshmallow field.
FIELD_KINDS = {
    TEXT: fields.String,
    MODEL: lambda **kw: fields.String(validate=validate.Length(min=1, max=200), **kw),
    TOKENS: lambda **kw: fields.Nested(TokensSchema, validate=AnyPositive(), **kw),
    MONEY: Money,
    AMOUNT: lambda **kw: Money(validate=validate.Range(min=Decimal("0.01")), **kw),
    COUNT: lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000), **kw),
    FLAG: fields.Boolean,
    LEVEL: lambda **kw: fields.String(validate=validate.OneOf(LEVELS), **kw),
    LIMIT: Limit,
    ROLE: lambda **kw: fields.String(validate=validate.OneOf(ROLES), **kw),
}


def _event_schema(event: EventType) -> Schema:
    """A schema with exactly the fields of one event type: each request is
    checked against its own event's fields only."""
    own = {name: FIELD_KINDS[kind](required=name in event.required) for name, kind in event.fields.items()}
    own["type"] = fields.String(required=True)
    return type(f"{event.name.title().replace('_', '')}EventSchema", (Strict,), own)()


_EVENT_SCHEMAS = {kind: _event_schema(event) for kind, event in EVENT_TYPES.items()}


class EventSchema(Strict):
    """Every field of every event type, for documentation. Loading goes by the
    event's type to that type's own schema (``EventField``)."""
    type = fields.String(required=True, validate=validate.OneOf(EVENTS))
    locals().update({name: FIELD_KINDS[kind]() for event in EVENT_TYPES.values()
                     for name, kind in event.fields.items()})


class EventField(fields.Nested):
    def __init__(self, **kwargs):
        super().__init__(EventSchema, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("an event is an object with a `type`")
        kind = value.get("type")
        schema = _EVENT_SCHEMAS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            raise ValidationError({"type": [f"Must be one of: {', '.join(EVENTS)}."]})
        return schema.load(value)

    def quick_checker(self, build):
        """The quick path: by the event's type, to that type's own schema's quick check."""
        checks = {kind: build(schema) for kind, schema in _EVENT_SCHEMAS.items()}

        def check(value):
            kind = value.get("type") if type(value) is dict else None
            if type(kind) is not str or kind not in checks:
                raise ValueError
            return checks[kind](value)
        return check


# A request value an event type needs (events.EventType.needed), when it is missing.
NEEDED = {"spend": "month-to-date spend is needed for {kind}"}
# For each event type: (part, field, message) of every value it needs.
_NEEDS = {kind: tuple((part, name, NEEDED.get(name, "needed for a {kind} event").format(kind=kind))
                      for part, _, name in (path.partition(".") for path in event.needed))
          for kind, event in EVENT_TYPES.items()}


def missing_for_event(data: dict) -> dict:
    """What the request's event type needs and the request lacks, as marshmallow error messages."""
    event = EVENT_TYPES.get((data.get("event") or {}).get("type"))
    if event is None:
        return {}
    errors: dict = {}
    member = data.get("member")
    if event.acting_member and member is None:
        errors["member"] = [f"the acting member is needed for a {event.name} event"]
    elif member is not None and "role" not in member:
        errors["member"] = {"role": ["Missing data for required field."]}
    for part, name, message in _NEEDS[event.name]:
        given = data.get(part)
        if given is None and part == "member":
            continue  # reported above when the event needs one
        if given is None or name not in given:
            errors.setdefault(part, {})[name] = [message]
    return errors


class RequestSchema(Strict):
    plan = fields.String(required=True)
    as_of = Day(required=True, validate=DATES)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    organization = fields.Nested(OrganizationSchema, load_default=dict)
    seat_type_pool = fields.Nested(LevelSchema)
    member = fields.Nested(MemberSchema)
    event = EventField(required=True)

    @validates_schema
    def _what_the_event_needs(self, data, **kwargs):
        errors = missing_for_event(data)
        if errors:
            raise ValidationError(errors)


_SCHEMA = RequestSchema()
accept_well_formed = quick_loader(_SCHEMA)  # the quick path: marshmallow's result, or None


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
        raise InputError("invalid_request", flatten_messages(exc.messages)) from None
