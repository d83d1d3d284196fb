"""Member sessions: a service or admin key issues a short-lived signed token
for one member of one organization (the console signs people in with them).

    POST /v1/organizations/acme/sessions {"member": "ana", "ttl_s": 900}
    -> {"token": "ts_...", "expires_at": "..."}

The token is ``ts_`` + itsdangerous' signed payload (organization, member,
issuing key, expiry). The signing secret is TARIFF_SECRET_KEY when set, else
one made once and kept in the database (``storage.keys.shared_secret``), so
every worker of every server on that database accepts every token. A token
dies with its expiry or when the key that issued it is revoked. It carries
no role: the member's role in the ledger at the time of each request is what
the policy checks.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import fields, validate

from tariff.storage import inputs, keys

from .auth import Principal, _database, principal, requires
from .blueprint import Blueprint
from .errors import ApiError
from .jsonio import json_response
from .schemas.common import Strict

PREFIX = "ts_"
SALT = "tariff.member-session"
SECRET_NAME = "session_signing"
MIN_TTL, MAX_TTL, DEFAULT_TTL = 60, 86_400, 3_600

blp = Blueprint("sessions", __name__, url_prefix="/v1", description="Member sessions")


def _serializer() -> URLSafeSerializer:
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        secret = current_app.extensions.get(SALT)
        if secret is None:
            secret = current_app.extensions[SALT] = keys.shared_secret(_database(), SECRET_NAME)
    return URLSafeSerializer(secret, salt=SALT)


def issue(organization: str, member: str, key_id: str | None, ttl_s: int) -> tuple[str, datetime]:
    expires = int(time.time()) + ttl_s
    token = PREFIX + _serializer().dumps({"o": organization, "m": member, "k": key_id, "e": expires})
    return token, datetime.fromtimestamp(expires, timezone.utc)


def verify(token: str) -> Principal | None:
    """The member session this token is, or None (bad signature, expired, or its key revoked)."""
    try:
        data = _serializer().loads(token[len(PREFIX):])
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data["e"] <= time.time():
        return None
    key_id = data.get("k")
    if key_id is not None and not keys.is_live(_database(), key_id):
        return None
    return Principal(key_id, f"session of {data['m']}", "member", organization=data["o"], member=data["m"])


class SessionCreateSchema(Strict):
    member = fields.String(required=True, validate=validate.Regexp(inputs.ID, error=inputs.ID_RULE),
                           metadata={"example": "ana"})
    ttl_s = fields.Integer(strict=True, load_default=DEFAULT_TTL, validate=validate.Range(MIN_TTL, MAX_TTL),
                           metadata={"description": "seconds the token lives"})


class SessionSchema(Strict):
    token = fields.String(required=True, metadata={"description": "send as Authorization: Bearer <token>"})
    expires_at = fields.AwareDateTime(required=True)
    organization = fields.String(required=True)
    member = fields.String(required=True)


@blp.route("/organizations/<org_id>/sessions", methods=["POST"])
@requires("service")
@blp.arguments(SessionCreateSchema)
@blp.response(201, SessionSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 422)
def create_session(body, org_id):
    """Issue a member session: a signed token acting as `member` of this
    organization until `expires_at` (`ttl_s`, 60 to 86400 seconds; default
    3600). The member must exist. A session is not made by another session."""
    from .accounts.blueprint import ledger
    ledger().get_member(org_id, body["member"])  # 404 for an unknown organization or member
    who = principal()
    token, expires = issue(org_id, body["member"], who.key_id, body["ttl_s"])
    return json_response({"token": token, "expires_at": expires.isoformat(), "organization": org_id,
                          "member": body["member"]}, 201)
