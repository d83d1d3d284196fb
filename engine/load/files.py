"""The shape of each policy file, as marshmallow schemas.

Structure only: cross-file meaning (does this reason code exist, is this
field a fact) is checked while the set is assembled (policy_set.py), which
knows the whole set.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..schema import Day, Money, Strict
from ..vocabulary import TOKEN_CLASSES

NON_NEGATIVE = validate.Range(min=0)


def _prices() -> dict:
    """A price per million tokens for each token class."""
    return {token_class: Money(required=True) for token_class in TOKEN_CLASSES}


class LongContextSchema(Strict):
    above_prompt_tokens = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    locals().update(_prices())


class ModelRatesSchema(Strict):
    locals().update(_prices())
    long_context = fields.Nested(LongContextSchema)


class RateCardEntrySchema(Strict):
    effective_from = Day(required=True)
    source = fields.String()
    models = fields.Dict(keys=fields.String(), values=fields.Nested(ModelRatesSchema), load_default=dict)
    retire = fields.List(fields.String(), load_default=list)


class RateCardFileSchema(Strict):
    rate_card = fields.List(fields.Nested(RateCardEntrySchema), required=True, validate=validate.Length(min=1))


def _seat_prices():
    return fields.Dict(keys=fields.String(), values=Money(), load_default=dict)


class SeatPricesEntrySchema(Strict):
    effective_from = Day(required=True)
    example = fields.Boolean(load_default=False)
    monthly = _seat_prices()
    hipaa_addon_monthly = _seat_prices()
    included_usage_monthly = _seat_prices()


class SeatPricesFileSchema(Strict):
    seat_prices = fields.List(fields.Nested(SeatPricesEntrySchema), required=True, validate=validate.Length(min=1))


class _Cited(Strict):
    cites = fields.List(fields.String(), load_default=list)


class ReasonSchema(_Cited):
    kind = fields.String(required=True, validate=validate.OneOf(["block", "refuse"]))
    level = fields.String()  # the limit level a limit reason is about


class ParamsSchema(Strict):
    params = fields.List(fields.String(), load_default=list)


class VocabularyFileSchema(Strict):
    reasons = fields.Dict(keys=fields.String(), values=fields.Nested(ReasonSchema), required=True)
    resume = fields.Dict(keys=fields.String(), values=fields.Nested(ParamsSchema), required=True)
    notifications = fields.Dict(keys=fields.String(), values=fields.Nested(ParamsSchema), required=True)
    transitions = fields.Dict(keys=fields.String(), values=fields.Nested(ParamsSchema), required=True)
    limit_levels = fields.List(fields.String(), required=True)
    roles = fields.List(fields.String(), required=True)
    products = fields.List(fields.String(), required=True)
    seat_types = fields.List(fields.String(), required=True)
    plans = fields.List(fields.String(), required=True)
    channels = fields.List(fields.String(), required=True)


class RuleSchema(Strict):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_{}]+$",
                                                               error="use lower-case letters, digits and _"))
    cites = fields.List(fields.String(), load_default=list)
    on = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    each = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw(), validate=validate.Length(min=1)))
    when = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)
    then = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                       validate=validate.Length(min=1))


class RulesFileSchema(Strict):
    rules = fields.List(fields.Nested(RuleSchema), required=True)


class SeatTypeSchema(Strict):
    products = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class PlanFileSchema(Strict):
    plan = fields.String(required=True)
    title = fields.String(required=True)
    channels = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    prepaid_credits = fields.List(fields.String(), load_default=list)
    usage = fields.String(required=True, validate=validate.OneOf(["pooled", "included_allowance"]))
    limit_levels = fields.List(fields.String(), required=True)
    seat_types = fields.Dict(keys=fields.String(), values=fields.Nested(SeatTypeSchema), required=True,
                             validate=validate.Length(min=1))
    renews_to = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    include = fields.List(fields.String(), load_default=list)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)

    @validates_schema
    def _prepaid_channels_are_plan_channels(self, data, **kwargs):
        extra = set(data.get("prepaid_credits", [])) - set(data.get("channels", []))
        if extra:
            raise ValidationError(f"not a channel of this plan: {sorted(extra)}", "prepaid_credits")


# The top-level key of a file says what it is.
FILE_KINDS = {
    "rate_card": RateCardFileSchema,
    "seat_prices": SeatPricesFileSchema,
    "reasons": VocabularyFileSchema,
    "plan": PlanFileSchema,
    "rules": RulesFileSchema,
}


def schema_for(data) -> type[Schema] | None:
    if isinstance(data, dict):
        for key, schema in FILE_KINDS.items():
            if key in data:
                return schema
    return None
