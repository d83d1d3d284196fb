"""Decision requests and answers.

The request schema is the engine's own (engine.request.RequestSchema): the
engine validates every request exactly once, with the same rules this
document shows. The API does not validate it a second time.
"""
from __future__ import annotations

from tariff.engine import Limit, Money, RequestSchema
from marshmallow import INCLUDE, Schema, fields, validate

from .common import AMOUNT_PATTERN, ProblemSchema, Strict, money

AMOUNT = {"type": "string", "pattern": AMOUNT_PATTERN, "example": "12.50",
          "description": "USD as an exact decimal string (a JSON number is accepted too, read exactly)"}
LIMIT = {"type": "string", "pattern": r"^(unlimited|[0-9]+(\.[0-9]+)?)$", "example": "500.00",
         "description": "USD as an exact decimal string, or \"unlimited\""}


class DecisionRequestSchema(RequestSchema):
    """One event with the facts it is decided on."""


class DecisionInput(fields.Raw):
    """A decision request inside a batch: validated by the engine per item."""


def document_fields(converter, field, ret=None, **kwargs) -> dict:
    """apispec attribute function: how tariff's own fields look in OpenAPI.
    Amounts are strings there, so numeric bounds (minimum) do not apply."""
    if isinstance(field, Money) and ret is not None:
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "format"):
            ret.pop(key, None)
    if isinstance(field, Limit):
        return dict(LIMIT)
    if isinstance(field, Money):
        return dict(AMOUNT)
    if isinstance(field, DecisionInput):
        return converter.resolve_nested_schema(DecisionRequestSchema)
    return {}


class Open(Schema):
    """Items whose parameters come from the policy vocabulary: the ones named
    here are documented, others a policy declares may appear too."""
    class Meta:
        unknown = INCLUDE


class ExplainQuerySchema(Strict):
    explain = fields.Boolean(load_default=False, metadata={"description": "include the trace of fired rules"})


class ReasonSchema(Strict):
    code = fields.String(required=True, metadata={"example": "org_limit_reached"})
    rule = fields.String(required=True, allow_none=True, metadata={"description": "the rule that gave it; "
                                                                   "null for deny-by-default"})
    cites = fields.List(fields.String(), required=True)
    level = fields.String()
    limit = money()
    spend = money()
    product = fields.String(allow_none=True)
    seat_type = fields.String(allow_none=True)
    message = fields.String(required=True, metadata={"description": "for the end user, in Content-Language"})


class ResumeSchema(Open):
    action = fields.String(required=True, metadata={"example": "raise_limit"})
    level = fields.String()
    date = fields.String(metadata={"format": "date"})
    seat_type = fields.String()
    message = fields.String(required=True)


class BindingLimitSchema(Strict):
    level = fields.String(required=True)
    limit = money(required=True)
    spend = money(required=True)
    headroom = money(required=True)


class ChargeLineSchema(Strict):
    kind = fields.String(required=True)
    item = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = money(required=True)
    amount = money(required=True)
    model = fields.String()
    tier = fields.String()
    months = fields.Integer()
    value = money()


class ChargesSchema(Strict):
    lines = fields.List(fields.Nested(ChargeLineSchema), required=True)
    total = money(required=True)


class NotificationSchema(Open):
    type = fields.String(required=True, metadata={"example": "spend_threshold"})
    level = fields.String()
    threshold_pct = fields.Integer()
    spend = money()
    limit = money()
    member = fields.String()
    message = fields.String(required=True)


class TransitionSchema(Open):
    type = fields.String(required=True)
    plan = fields.String(allow_none=True)
    date = fields.String(metadata={"format": "date"})
    message = fields.String(required=True)


class ChangeSchema(Open):
    change = fields.String(required=True, metadata={"description": "a state change for the ledger",
                                                    "example": "record_usage"})


class TraceSchema(Strict):
    rule = fields.String(required=True)
    cites = fields.List(fields.String(), required=True)
    file = fields.String(required=True)
    line = fields.Integer(required=True)
    column = fields.Integer(required=True)


class DecisionSchema(Strict):
    decision_id = fields.UUID(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(["allow", "block", "refuse"]))
    plan = fields.String(required=True)
    event = fields.String(required=True)
    as_of = fields.String(required=True, metadata={"format": "date"})
    policy_version = fields.String(required=True, metadata={"description": "content hash of the policy set "
                                                            "that decided"})
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    resume = fields.List(fields.Nested(ResumeSchema), required=True)
    binding_limit = fields.Nested(BindingLimitSchema, required=True, allow_none=True)
    charges = fields.Nested(ChargesSchema, required=True)
    notifications = fields.List(fields.Nested(NotificationSchema), required=True)
    transition = fields.Nested(TransitionSchema, required=True, allow_none=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    trace = fields.List(fields.Nested(TraceSchema), metadata={"description": "with ?explain=true"})


class BatchRequestSchema(Strict):
    requests = fields.List(DecisionInput(allow_none=True), required=True, validate=validate.Length(min=1),
                           metadata={"description": "decided in order; at most MAX_BATCH (default 1000)"})


class BatchResultSchema(Strict):
    index = fields.Integer(required=True)
    status = fields.Integer(required=True, metadata={"description": "200: decided; 422: this item's input "
                                                     "is invalid (see error)"})
    decision = fields.Nested(DecisionSchema)
    error = fields.Nested(ProblemSchema)


class BatchResponseSchema(Strict):
    policy_version = fields.String(required=True, metadata={"description": "every item was decided by this set"})
    results = fields.List(fields.Nested(BatchResultSchema), required=True)
