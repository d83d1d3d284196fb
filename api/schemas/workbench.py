"""The billing-staff workbench's answers (api/workbench.py): the served set's
plans and rules, the rate card's history, findings, fixture results, an
explained decision, and a what-if replay."""
from __future__ import annotations

from marshmallow import fields, validate

from .common import Strict
from .decisions import DecisionSchema
from .policies import POLICY_PATH, FindingSchema, FixtureFailureSchema, ValidateRequestSchema


class RuleSchema(Strict):
    id = fields.String(required=True)
    on = fields.List(fields.String(), required=True, metadata={"description": "the events it decides"})
    cites = fields.List(fields.String(), required=True, metadata={
        "description": "billing rules it implements: anchors of policies/billing-rules.md (S3, L1, D4...)"})
    file = fields.String(required=True)
    line = fields.Integer(required=True)
    column = fields.Integer(required=True)


class PlanRulesSchema(Strict):
    id = fields.String(required=True)
    title = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    usage = fields.String(required=True)
    prepaid_credits = fields.List(fields.String(), required=True, metadata={"description": "channels prepaid"})
    limit_levels = fields.List(fields.String(), required=True)
    seat_types = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                             metadata={"description": "seat type -> the products it includes"})
    renews_to = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    file = fields.String(required=True)
    rules = fields.List(fields.Nested(RuleSchema), required=True)


class PlansSchema(Strict):
    version = fields.String(required=True)
    plans = fields.List(fields.Nested(PlanRulesSchema), required=True)


class RatesSchema(Strict):
    effective_from = fields.String(required=True, metadata={"format": "date"})
    file = fields.String(required=True, allow_none=True)
    line = fields.Integer(required=True, allow_none=True)
    retired = fields.Boolean(required=True, metadata={"description": "the model is retired from this day"})
    per_million = fields.Dict(keys=fields.String(), values=fields.String(), required=True, allow_none=True,
                              metadata={"description": "USD per million tokens, per token class"})
    long_context = fields.Dict(keys=fields.String(), values=fields.String(), required=True, allow_none=True,
                               metadata={"description": "rates above the prompt threshold, with it"})


class ModelHistorySchema(Strict):
    model = fields.String(required=True)
    history = fields.List(fields.Nested(RatesSchema), required=True, metadata={"description": "oldest first"})


class RateCardSchema(Strict):
    version = fields.String(required=True)
    token_classes = fields.List(fields.String(), required=True)
    models = fields.List(fields.Nested(ModelHistorySchema), required=True)


class FileQuerySchema(Strict):
    path = fields.String(required=True, validate=validate.Regexp(POLICY_PATH), metadata={"example": "rate_card.yaml"})


class PolicyFileTextSchema(Strict):
    path = fields.String(required=True)
    text = fields.String(required=True)


class FindingsSchema(Strict):
    version = fields.String(required=True)
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class FixtureResultsSchema(Strict):
    version = fields.String(required=True)
    directory = fields.String(required=True, allow_none=True)
    passed = fields.Integer(required=True)
    failed = fields.List(fields.Nested(FixtureFailureSchema), required=True)


class ExplainedSchema(Strict):
    decision = fields.Nested(DecisionSchema, required=True, metadata={"description": "with its trace"})
    explanation = fields.List(fields.String(), required=True, metadata={"description": "plain English, for staff"})


class WhatIfRequestSchema(ValidateRequestSchema):
    events = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1_000_000),
                           metadata={"description": "an event file's text: JSON lines of decision requests (or the "
                                     "decision log), or a YAML fixture file"})
    events_format = fields.String(load_default="jsonl", validate=validate.OneOf(["jsonl", "yaml"]))
    ledger = fields.Boolean(load_default=False, metadata={"description": "replay the ledger's history too"})
    organization = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 64),
                                 metadata={"description": "with ledger: one organization's history only"})


class WhatIfSchema(Strict):
    valid = fields.Boolean(required=True, metadata={"description": "false: the changed set has errors (findings); "
                                                                   "nothing was replayed"})
    findings = fields.List(fields.Nested(FindingSchema), required=True)
    report = fields.Dict(required=True, allow_none=True, metadata={
        "description": "the replay (engine Report.to_dict): totals and groups per organization and plan with "
                       "old_charges, new_charges and change as exact decimal strings"})
