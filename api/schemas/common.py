"""Shared schemas: the error body, strict loading."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ProblemSchema(Strict):
    """application/problem+json, for every failure."""

    code = fields.String(required=True, metadata={"description": "stable machine-readable code",
                                                  "example": "invalid_request"})
    status = fields.Integer(required=True, metadata={"example": 422})
    title = fields.String(required=True, metadata={"description": "the HTTP status phrase"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for a developer"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "validation failures: field path -> messages",
                                   "example": {"event.model": ["unknown model 'x'"]}})

    class Meta:
        unknown = RAISE
