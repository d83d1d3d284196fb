"""Webhook endpoints (register, list, read, delete) and their deliveries
(list, retry by hand). Lists are pages as every list's (storage/pages.py):
``{"items": [...], "next": cursor}`` in creation order.

Registering with an Idempotency-Key: the key is among those of no
organization (``shared_answers``: endpoints may belong to none) and the
request fingerprint names the organization, so one key cannot replay another
organization's answer.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import delete as sql_delete, select

from .. import caller, idempotency, pages, repository as repo, views
from ..errors import InvalidInput, NotFound
from ..models import Organization, WebhookDelivery, WebhookEndpoint, WebhookEvent, joined
from . import targets
from .outbox import CATEGORIES, new_id

if TYPE_CHECKING:  # the unit of work imports the outbox: no import cycle at run time
    from ..unit_of_work import Books

SCHEMES = ("http", "https")
MAX_URL = 2048
SECRET_LENGTH = (16, 256)
STATUSES = ("pending", "delivered", "failed")


# -- checks ---------------------------------------------------------------------------

def check_url(url: str) -> str:
    if len(url) > MAX_URL:
        raise InvalidInput.field("url", f"at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise InvalidInput.field("url", f"not a URL: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InvalidInput.field("url", "must be an http:// or https:// URL")
    if not parts.hostname:
        raise InvalidInput.field("url", "must name a host")
    if parts.username or parts.password:
        raise InvalidInput.field("url", "must not carry credentials; the signature authenticates deliveries")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise InvalidInput.field("url", "must not contain spaces or control characters")
    return url


def check_secret(secret: str) -> str:
    low, high = SECRET_LENGTH
    if not low <= len(secret) <= high:
        raise InvalidInput.field("secret", f"{low} to {high} characters (the key deliveries are signed with)")
    return secret


def event_types(vocabulary: dict) -> set[str]:
    """Every type an event can have under a policy's vocabulary."""
    return ({f"notification.{code}" for code in vocabulary["notifications"]}
            | {f"block.{code}" for code, reason in vocabulary["reasons"].items() if reason.get("kind") == "block"}
            | {f"transition.{code}" for code in vocabulary["transitions"]})


def check_events(events: list[str] | None, vocabulary: dict) -> list[str] | None:
    """Categories, or types the policy in force can send (a typo would silently receive nothing)."""
    if events is None:
        return None
    if not events:
        raise InvalidInput.field("events", "at least one; leave it out to receive every event")
    known = event_types(vocabulary)
    errors = {f"events.{i}": [f"a category ({', '.join(CATEGORIES)}) or a type: {', '.join(sorted(known))}"]
              for i, name in enumerate(events) if name not in CATEGORIES and name not in known}
    if errors:
        raise InvalidInput("the event types are not valid", errors=errors)
    return sorted(set(events))


def _limit(limit: int) -> int:
    if not 1 <= limit <= pages.MAX_LIMIT:
        raise InvalidInput.field("limit", f"from 1 to {pages.MAX_LIMIT}")
    return limit


# -- views ------------------------------------------------------------------------------

def endpoint_view(endpoint: WebhookEndpoint, org_id: str | None) -> dict:
    return {"id": endpoint.id, "url": endpoint.url, "organization": org_id,
            "events": json.loads(endpoint.events) if endpoint.events else None,
            "created_at": views.iso(endpoint.created_at), "created_by": endpoint.created_by,
            "deleted_at": views.iso(endpoint.deleted_at), "deleted_by": endpoint.deleted_by}


def delivery_view(delivery: WebhookDelivery, event: WebhookEvent, endpoint_id: str) -> dict:
    return {"id": delivery.pk, "webhook": endpoint_id,
            "event": {"id": event.id, "type": event.type, "created_at": views.iso(event.created_at)},
            "status": delivery.status, "attempts": delivery.attempts,
            "next_attempt_at": views.iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
            "last_attempt_at": views.iso(delivery.last_attempt_at), "last_status": delivery.last_status,
            "last_error": delivery.last_error, "delivered_at": views.iso(delivery.delivered_at),
            "created_at": views.iso(delivery.created_at), "retried_at": views.iso(delivery.retried_at),
            "retried_by": delivery.retried_by}


# -- endpoints ----------------------------------------------------------------------------

def create(books: Books, *, url: str, secret: str, organization: str | None = None,
           events: list[str] | None = None, idempotency_key: str | None = None,
           private_targets: bool = True) -> dict:
    """Register an endpoint; ``private_targets`` False: its host must be public (targets.py)."""
    url, secret = check_url(url), check_secret(secret)
    if not private_targets:
        problem = targets.non_public(url)
        if problem:
            raise InvalidInput.field("url", f"{problem}; this server delivers to public addresses only")
    events = check_events(events, books.evaluator.policy.vocabulary)
    with books.write() as uow:
        org = uow.lock_org(organization) if organization is not None else None
        once = idempotency.Once(uow, "", "webhooks.create", idempotency_key, url=url, secret=secret,
                                organization=organization, events=events)
        if once.replay is not None:
            return once.replay
        endpoint = WebhookEndpoint(id=new_id("wh"), org_pk=org.pk if org else None, url=url, secret=secret,
                                   events=json.dumps(events) if events is not None else None, created_at=uow.now,
                                   created_by=caller.key()[0])
        uow.session.add(endpoint)
        uow.session.flush()
        return once.keep(endpoint_view(endpoint, organization))


def _in_service(deleted: bool = False):
    """Endpoints in service; ``deleted``: the deleted ones instead (kept, marked, sent nothing)."""
    return WebhookEndpoint.deleted_at.is_not(None) if deleted else WebhookEndpoint.deleted_at.is_(None)


def _endpoint_query(deleted: bool = False):
    return select(WebhookEndpoint, Organization.id).outerjoin(Organization, Organization.pk == WebhookEndpoint.org_pk) \
        .where(_in_service(deleted))


def find(books: Books, endpoint_id: str) -> dict:
    """One endpoint (404 ``webhook_not_found``)."""
    with books.read() as uow:
        return _found(uow.session, endpoint_id)


def _found(session, endpoint_id: str) -> dict:
    return endpoint_view(*_row(session, endpoint_id))


def _row(session, endpoint_id: str) -> tuple[WebhookEndpoint, str | None]:
    """An endpoint in service and its organization's id (404 ``webhook_not_found``). The id
    is read by the organization's pk, on its one shard: a join from the shared table would
    read every shard, and Citus then takes no write to the endpoint in that transaction
    (deliveries have a key to it)."""
    endpoint = session.execute(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, _in_service())).scalar()
    if endpoint is None:
        raise NotFound(f"no webhook {endpoint_id!r}", "webhook_not_found")
    if endpoint.org_pk is None:
        return endpoint, None
    return endpoint, session.execute(select(Organization.id).where(Organization.pk == endpoint.org_pk)).scalar_one()


def list_page(books: Books, *, organization: str | None = None, cursor: str | None = None,
              limit: int = 100, deleted: bool = False) -> dict:
    """Endpoints oldest first; ``organization``: only that organization's (not those for
    every one); ``deleted``: the deleted ones, with who deleted them, instead."""
    limit = _limit(limit)
    with books.read() as uow:
        query = _endpoint_query(deleted)
        if organization is not None:
            query = query.where(repo.of_org(WebhookEndpoint.org_pk, uow.session.connection(), organization))
        rows = uow.session.execute(pages.after(query, WebhookEndpoint.pk, cursor, int, limit)).all()
        return pages.page(rows, limit, lambda row: row[0].pk, lambda row: endpoint_view(*row))


def delete(books: Books, endpoint_id: str, *, idempotency_key: str | None = None) -> dict:
    """Delete an endpoint: its deliveries go (sent or not: none is sent after this), the
    endpoint stays, marked with when and by whom (``list_page(deleted=True)``), its secret
    forgotten."""
    with books.write() as uow:
        once = idempotency.Once(uow, "", "webhooks.delete", idempotency_key, webhook=endpoint_id)
        if once.replay is not None:
            return once.replay
        endpoint, org_id = _row(uow.session, endpoint_id)
        endpoint.deleted_at, endpoint.deleted_by, endpoint.secret = uow.now, caller.key()[0], ""
        uow.session.flush()
        answer = once.keep({**endpoint_view(endpoint, org_id), "deleted": True})
        # Last: the shared tables' writes (the endpoint, the kept answer) come first, as Citus
        # takes no write to a reference table after a write to every shard in one transaction.
        uow.session.execute(sql_delete(WebhookDelivery).where(WebhookDelivery.endpoint_pk == endpoint.pk))
        return answer


# -- deliveries ---------------------------------------------------------------------------

def _deliveries_of(endpoint_id: str):
    """An endpoint's deliveries with their events (each joined within its organization)."""
    return select(WebhookDelivery, WebhookEvent).join(WebhookEvent, joined(WebhookDelivery.event_pk, WebhookEvent)) \
        .join(WebhookEndpoint, WebhookEndpoint.pk == WebhookDelivery.endpoint_pk) \
        .where(WebhookEndpoint.id == endpoint_id)

def deliveries(books: Books, endpoint_id: str, *, status: str | None = None, cursor: str | None = None,
               limit: int = 100) -> dict:
    """An endpoint's deliveries, oldest first: status, attempts, the last
    failure and the next attempt."""
    limit = _limit(limit)
    if status is not None and status not in STATUSES:
        raise InvalidInput.field("status", f"one of {', '.join(STATUSES)}")
    with books.read() as uow:
        _found(uow.session, endpoint_id)
        query = _deliveries_of(endpoint_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        rows = uow.session.execute(pages.after(query, WebhookDelivery.pk, cursor, int, limit)).all()
        return pages.page(rows, limit, lambda row: row[0].pk, lambda row: delivery_view(*row, endpoint_id))


def retry(books: Books, endpoint_id: str, delivery_id: int, *, idempotency_key: str | None = None) -> dict:
    """Send a delivery again as soon as a dispatcher is free, whatever its
    status; the give-up window starts again now."""
    with books.write() as uow:
        once = idempotency.Once(uow, "", "webhooks.retry", idempotency_key, webhook=endpoint_id,
                                delivery=delivery_id)
        if once.replay is not None:
            return once.replay
        _found(uow.session, endpoint_id)
        row = uow.session.execute(_deliveries_of(endpoint_id).where(WebhookDelivery.pk == delivery_id)).first()
        if row is None:
            raise NotFound(f"no delivery {delivery_id} of webhook {endpoint_id!r}", "delivery_not_found")
        delivery, event = row
        delivery.status, delivery.next_attempt_at, delivery.window_start = "pending", uow.now, uow.now
        delivery.retried_at, delivery.retried_by = uow.now, caller.key()[0]
        uow.session.flush()
        return once.keep(delivery_view(delivery, event, endpoint_id))
