"""GET /v1/organizations/{org_id}/audit: who changed what, when, and which decision allowed it."""
from __future__ import annotations

from marshmallow import fields, validate

from tariff.storage import audit

from .auth import requires
from .blueprint import Blueprint
from .jsonio import json_response
from .schemas.common import Strict

blp = Blueprint("audit", __name__, url_prefix="/v1", description="The audit trail")


class AuditQuerySchema(Strict):
    cursor = fields.String(validate=validate.Length(1, 512),
                           metadata={"description": "the `next` of the previous page (opaque)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class AuditEntrySchema(Strict):
    id = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"description": "when it was applied (UTC)"})
    event = fields.String(required=True, metadata={"example": "seat_add"})
    outcome = fields.String(required=True)
    as_of = fields.String(required=True)
    actor = fields.String(required=True, allow_none=True, metadata={"description": "the acting member"})
    key_id = fields.String(required=True, allow_none=True,
                           metadata={"description": "the key that called (a member session: the key that "
                                                    "issued it); null: local mode, or a job"})
    key_name = fields.String(required=True, allow_none=True)
    decision_id = fields.String(required=True, allow_none=True,
                                metadata={"description": "the decision's id in the decision log"})
    policy_version = fields.String(required=True, allow_none=True)
    charges = fields.List(fields.Dict(), required=True)
    changes = fields.List(fields.Dict(), required=True)
    transition = fields.Dict(required=True, allow_none=True)


class AuditPageSchema(Strict):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next = fields.String(required=True, allow_none=True,
                         metadata={"description": "the cursor of the next page; null on the last"})


@blp.route("/organizations/<org_id>/audit", methods=["GET"])
@requires("read")
@blp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AuditPageSchema)
@blp.problems(401, 403, 404, 422)
def audit_trail(org_id, cursor=None, limit=100):
    """Every change applied to the organization, oldest first (usage has its
    own list): the event, its charges and changes, when, the acting member,
    the key that called, and the decision that allowed it (its id in the
    decision log and the policy version). Page with `cursor`."""
    from .accounts.blueprint import ledger
    return json_response(audit.page(ledger().books, org_id, cursor=cursor, limit=limit))
