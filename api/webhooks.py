"""Webhooks under /v1/webhooks: register endpoints, list and delete them, see
their deliveries and retry one by hand (storage/webhooks/).

Who may: an endpoint for one organization needs a service key for it (or
admin); an endpoint for every organization needs admin. A key bound to one
organization sees only that organization's endpoints: any other is a 404.

With ``WEBHOOKS_DISPATCH`` (``TARIFF_WEBHOOKS_DISPATCH=1``, which `tariff
serve` sets unless told otherwise) the app runs a dispatcher thread that
delivers the outbox; every worker runs one, and their claims never overlap.
Apps built by tests run none unless asked.
"""
from __future__ import annotations

import logging

from flask import current_app
from marshmallow import fields, validate

from tariff.storage import NotFound, webhooks
from tariff.storage.inputs import ID, ID_RULE
from tariff.storage.webhooks.endpoints import STATUSES

from .accounts.blueprint import EXTENSION as LEDGER, REPLAYED, ledger, replayed_headers
from .accounts.schemas import IdempotencyHeaderSchema
from .auth import principal, require, requires
from .blueprint import Blueprint
from .jsonio import json_response
from .schemas.common import PageQuerySchema, Strict, page_of

DISPATCHER = "tariff.webhooks.dispatcher"
log = logging.getLogger("tariff.webhooks")

blp = Blueprint("webhooks", __name__, url_prefix="/v1",
                description="Webhooks: every notification, block and transition POSTed to your endpoints as one "
                            "signed JSON event (Tariff-Signature: t=UNIX,v1=HMAC-SHA256 of \"t.body\"), at "
                            "least once")


# -- schemas ------------------------------------------------------------------------------

class WebhookCreateSchema(Strict):
    url = fields.String(required=True, metadata={"example": "https://billing.example.com/tariff-hooks",
                                                 "description": "http:// or https:// only"})
    secret = fields.String(required=True, metadata={
        "description": "16 to 256 characters: deliveries are signed with it; never answered again"})
    organization = fields.String(validate=validate.Regexp(ID, error=ID_RULE), metadata={
        "description": "only this organization's events; leave it out for every organization's (admin)"})
    events = fields.List(fields.String(validate=validate.Length(1, 100)), allow_none=True, metadata={
        "description": "categories (notification, block, transition) or types (block.credits_exhausted); "
                       "leave it out for every event", "example": ["block", "notification.spend_threshold"]})


class WebhookListQuerySchema(PageQuerySchema):
    organization = fields.String(validate=validate.Regexp(ID, error=ID_RULE),
                                 metadata={"description": "only this organization's endpoints"})
    deleted = fields.Boolean(load_default=False, metadata={
        "description": "true: the deleted endpoints instead, with when and by which key"})


class DeliveryListQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(STATUSES))


class WebhookSchema(Strict):
    id = fields.String(required=True, metadata={"example": "wh_3f2a9c0d1e5b7a8c9d0e1f2a"})
    url = fields.String(required=True)
    organization = fields.String(required=True, allow_none=True,
                                 metadata={"description": "null: every organization's events"})
    events = fields.List(fields.String(), required=True, allow_none=True,
                         metadata={"description": "null: every event"})
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    created_by = fields.String(required=True, allow_none=True, metadata={
        "description": "the key that registered it; null: local mode"})
    deleted_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    deleted_by = fields.String(required=True, allow_none=True, metadata={
        "description": "the key that deleted it (null while in service, or deleted in local mode)"})


class WebhookDeletedSchema(WebhookSchema):
    deleted = fields.Boolean(required=True)


class DeliveredEventSchema(Strict):
    id = fields.String(required=True, metadata={"description": "the event's id: the same on every attempt"})
    type = fields.String(required=True, metadata={"example": "notification.spend_threshold"})
    created_at = fields.String(required=True, metadata={"format": "date-time"})


class DeliverySchema(Strict):
    id = fields.Integer(required=True)
    webhook = fields.String(required=True)
    event = fields.Nested(DeliveredEventSchema, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.String(required=True, allow_none=True, metadata={
        "format": "date-time", "description": "when a pending delivery is tried next; null otherwise"})
    last_attempt_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    last_status = fields.Integer(required=True, allow_none=True,
                                 metadata={"description": "the receiver's HTTP status; null: no answer"})
    last_error = fields.String(required=True, allow_none=True)
    delivered_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    retried_at = fields.String(required=True, allow_none=True, metadata={
        "format": "date-time", "description": "the last retry by hand"})
    retried_by = fields.String(required=True, allow_none=True, metadata={
        "description": "the key that asked for that retry; null: none, or local mode"})


COMMON = (401, 403, 404, 422)
BODY = (400, 413, 415)


# -- who may ------------------------------------------------------------------------------

def _may_manage(organization: str | None) -> None:
    """One organization's endpoints: service for it; every organization's: admin."""
    if organization is None:
        require("admin")
    else:
        require("service", organization)


def _visible(webhook_id: str, found: dict | None = None) -> dict:
    """The endpoint, if the caller may see it (a key bound to another organization: 404, as if absent)."""
    found = found or webhooks.find(ledger().books, webhook_id)
    who = principal()
    if who is not None and who.organization is not None and found["organization"] != who.organization:
        raise NotFound(f"no webhook {webhook_id!r}", "webhook_not_found")
    _may_manage(found["organization"])
    return found


# -- views ---------------------------------------------------------------------------------

@blp.route("/webhooks", methods=["POST"])
@requires("service")
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookSchema, headers=REPLAYED)
@blp.problems(*COMMON, *BODY, 409)
def create_webhook(body, idempotency_key=None):
    """Register an endpoint (its secret is never answered again).

    Every notification, block and transition of the organization (or, with no
    `organization`, of every organization: admin only) is POSTed to `url` as
    one JSON event `{"id", "type", "organization", "created_at", "data"}`,
    signed in `Tariff-Signature`. `url` must be http:// or https:// (422
    naming `url`).
    """
    _may_manage(body.get("organization"))
    out = webhooks.create(ledger().books, idempotency_key=idempotency_key,
                          private_targets=current_app.config["WEBHOOKS_PRIVATE_TARGETS"] == "allow", **body)
    return json_response(out, 201, headers=replayed_headers(out))


@blp.route("/webhooks", methods=["GET"])
@requires("service")
@blp.arguments(WebhookListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, page_of(WebhookSchema))
@blp.problems(*COMMON)
def list_webhooks(organization=None, cursor=None, limit=100, deleted=False):
    """A page of endpoints, oldest first (a key bound to one organization: that
    organization's), each with the key that registered it; `deleted=true`: the
    deleted ones, with when and by which key."""
    who = principal()
    if organization is not None:
        require("service", organization)
    elif who is not None and who.organization is not None:
        organization = who.organization
    return json_response(webhooks.list_page(ledger().books, organization=organization, cursor=cursor,
                                            limit=limit, deleted=deleted))


@blp.route("/webhooks/<webhook_id>", methods=["GET"])
@requires("service")
@blp.response(200, WebhookSchema)
@blp.problems(*COMMON)
def get_webhook(webhook_id):
    """One endpoint."""
    return json_response(_visible(webhook_id))


@blp.route("/webhooks/<webhook_id>", methods=["DELETE"])
@requires("service")
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.response(200, WebhookDeletedSchema, headers=REPLAYED)
@blp.problems(*COMMON, 409)
def delete_webhook(webhook_id, idempotency_key=None):
    """Delete an endpoint: nothing more is sent to it, and its deliveries go with it."""
    try:
        found = webhooks.find(ledger().books, webhook_id)
    except NotFound:
        if idempotency_key is None:
            raise
        found = None  # gone: a retry of the deletion gets its first answer (or 404)
    if found is not None:
        _visible(webhook_id, found)
    out = webhooks.delete(ledger().books, webhook_id, idempotency_key=idempotency_key)
    return json_response(out, headers=replayed_headers(out))


@blp.route("/webhooks/<webhook_id>/deliveries", methods=["GET"])
@requires("service")
@blp.arguments(DeliveryListQuerySchema, location="query", as_kwargs=True)
@blp.response(200, page_of(DeliverySchema))
@blp.problems(*COMMON)
def list_deliveries(webhook_id, status=None, cursor=None, limit=100):
    """A page of the endpoint's deliveries, oldest first: status (pending,
    delivered, failed), attempts, the last answer or error, the next attempt."""
    _visible(webhook_id)
    return json_response(webhooks.deliveries(ledger().books, webhook_id, status=status, cursor=cursor,
                                             limit=limit))


@blp.route("/webhooks/<webhook_id>/deliveries/<int:delivery_id>/retry", methods=["POST"])
@requires("service")
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.response(200, DeliverySchema, headers=REPLAYED)
@blp.problems(*COMMON, 409)
def retry_delivery(webhook_id, delivery_id, idempotency_key=None):
    """Send a delivery again now (failed, or even delivered: the same event id,
    for the receiver to drop if it has it); the give-up window starts again."""
    _visible(webhook_id)
    out = webhooks.retry(ledger().books, webhook_id, delivery_id, idempotency_key=idempotency_key)
    return json_response(out, headers=replayed_headers(out))


# -- the dispatcher ---------------------------------------------------------------------------

def settings(config) -> webhooks.Settings:
    return webhooks.Settings(first_retry_s=config["WEBHOOKS_RETRY_FIRST_S"], max_retry_s=config["WEBHOOKS_RETRY_MAX_S"],
                             give_up_s=config["WEBHOOKS_GIVE_UP_S"], timeout_s=config["WEBHOOKS_TIMEOUT_S"],
                             poll_s=config["WEBHOOKS_POLL_S"], retention_s=config["WEBHOOKS_RETENTION_DAYS"] * 86400,
                             private_targets=config["WEBHOOKS_PRIVATE_TARGETS"] == "allow")


def _start_dispatcher(state) -> None:
    app = state.app
    if not app.config.get("WEBHOOKS_DISPATCH"):
        return
    dispatcher = webhooks.Dispatcher(app.extensions[LEDGER].db, settings(app.config)).start()
    app.extensions[DISPATCHER] = dispatcher
    log.info("webhook dispatcher started")


blp.record_once(_start_dispatcher)
