from __future__ import annotations

from marshmallow import fields

from .common import Strict


class HealthSchema(Strict):
    status = fields.String(required=True, metadata={"example": "ok"})


class ReadySchema(Strict):
    status = fields.String(required=True, metadata={"example": "ready"})
    policy_version = fields.String(required=True, metadata={"description": "content hash of the served set"})
