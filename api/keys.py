"""API keys over HTTP (admin scope): the same operations as `tariff keys`.

    POST /v1/keys {"scope": "service", "organization": "acme", "name": "backend"}  -> the key and its secret, once
    GET  /v1/keys                                                                  -> every key (never a secret)
    POST /v1/keys/{key_id}/revoke                                                  -> the key, revoked at once
"""
from __future__ import annotations

from marshmallow import fields, validate

from tariff.storage import inputs, keys

from .accounts.schemas import IdempotencyHeaderSchema
from .auth import _database, principal, requires
from .blueprint import Blueprint
from .jsonio import json_response
from .schemas.common import Strict

blp = Blueprint("keys", __name__, url_prefix="/v1/keys", description="API keys (admin)")


class KeyCreateSchema(Strict):
    scope = fields.String(required=True, validate=validate.OneOf(keys.SCOPES))
    organization = fields.String(validate=validate.Regexp(inputs.ID, error=inputs.ID_RULE),
                                 metadata={"description": "bind the key to one organization (service: optional; "
                                                          "read: required; admin: never)"})
    name = fields.String(validate=validate.Length(1, 200), metadata={"example": "billing backend"})


class KeySchema(Strict):
    id = fields.String(required=True, metadata={"example": "k0123456789abcdef"})
    name = fields.String(required=True)
    scope = fields.String(required=True)
    organization = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    revoked_at = fields.String(required=True, allow_none=True)
    created_by = fields.String(required=True, allow_none=True,
                               metadata={"description": "the admin key that made it; \"local\": local mode; "
                                                        "\"cli\": tariff keys"})
    revoked_by = fields.String(required=True, allow_none=True)


class KeyCreatedSchema(KeySchema):
    secret = fields.String(required=True, allow_none=True,
                           metadata={"description": "send as Authorization: Bearer <secret>; shown only in this "
                                                    "answer (null when replayed: it is never stored)"})


class KeyListSchema(Strict):
    items = fields.List(fields.Nested(KeySchema), required=True)


@blp.route("", methods=["POST"])
@requires("admin")
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(KeyCreateSchema)
@blp.response(201, KeyCreatedSchema, headers={"Idempotent-Replayed": {"schema": {"type": "string"}}})
@blp.problems(400, 401, 403, 409, 413, 415, 422)
def create_key(body, idempotency_key=None):
    """Make a key. Its secret is in this answer only; only its sha256 is kept.
    With an Idempotency-Key, a retry returns the same key with `secret` null
    (`Idempotent-Replayed: true`): the secret was never stored."""
    key, secret = keys.create(_database(), body["scope"], body.get("organization"), body.get("name"),
                              idempotency_key=idempotency_key, by=_who())
    return json_response({**key.json(), "secret": secret}, 201,
                         headers={"Idempotent-Replayed": "true"} if secret is None else None)


@blp.route("", methods=["GET"])
@requires("admin")
@blp.response(200, KeyListSchema)
@blp.problems(401, 403)
def list_keys():
    """Every key, live and revoked, oldest first (secrets are never shown again)."""
    return json_response({"items": [k.json() for k in keys.list_all(_database())]})


@blp.route("/<key_id>/revoke", methods=["POST"])
@requires("admin")
@blp.response(200, KeySchema)
@blp.problems(401, 403, 404)
def revoke_key(key_id):
    """Revoke a key, at once for every worker (member sessions it issued die with it). Revoking again
    changes nothing."""
    return json_response(keys.revoke(_database(), key_id, by=_who()).json())


def _who() -> str:
    """Who manages a key, as kept with it: the admin key's id, or "local" (local mode)."""
    who = principal()
    return who.key_id or "local"
