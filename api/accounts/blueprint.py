"""What the accounts views share: the ledger of the app, ledger errors as
problem+json, localized messages in the decisions the ledger returns, and
JSON responses.

Errors: unknown organization or member 404; a state conflict (duplicate id,
closed period, seats in use, idempotency key reused) 409; a policy refusal
409 with the engine's ``decision`` (403 when the reason is
``role_not_allowed``); a role the service itself refuses 403; bad input 422
naming the field (``unknown_model`` etc. from the engine); a busy database
503 with Retry-After.
"""
from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from flask import current_app, request
from sqlalchemy.exc import OperationalError

from tariff.engine import InputError
from tariff.storage import Conflict, Forbidden, InvalidInput, LedgerError, NotFound, Refused

from ..blueprint import Blueprint
from ..errors import PROBLEM, ApiError
from ..jsonio import dumps
from ..messages import language, localize
from ..services import services

EXTENSION = "tariff.ledger"
AMOUNT_KEYS = {"limit", "spend", "amount", "headroom"}

blp = Blueprint("accounts", __name__, url_prefix="/v1",
                description="Accounts and ledger: organizations, members, seats, limits, credits, usage, "
                            "invoices, notifications, billing runs")

# The problems each kind of view can answer with (documented per view).
COMMON = {401: "UNAUTHORIZED", 404: "NOT_FOUND", 422: "UNPROCESSABLE_ENTITY"}
BODY = {400: "BAD_REQUEST", 413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


def documented(*statuses, body: bool = True, refusal: bool = False):
    """Document the problem responses a view can give: 401/404/422 always,
    the body's 400/413/415 when it takes one, the others named."""
    def wrap(view):
        from .schemas import RefusalProblemSchema
        codes = {**COMMON, **(BODY if body else {})}
        for status in statuses:
            codes.setdefault(status, None)
        for status, name in sorted(codes.items()):
            if refusal and status in (403, 409):
                view = blp.alt_response(status, schema=RefusalProblemSchema, content_type=PROBLEM,
                                        description="refused by the policy (with its decision), or another "
                                                    "problem")(view)
            elif name:
                view = blp.alt_response(status, response=name)(view)
            else:
                from http import HTTPStatus
                view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view
    return wrap


def ledger():
    return current_app.extensions[EXTENSION]


def ledger_errors(view):
    """Ledger failures as the one problem shape."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Refused as exc:
            status = 403 if exc.code == "role_not_allowed" else 409
            raise ApiError(status, exc.code, exc.message,
                           decision=localized(exc.decision, request_language())) from None
        except NotFound as exc:
            raise ApiError(404, exc.code, exc.message) from None
        except Conflict as exc:
            raise ApiError(409, exc.code, exc.message) from None
        except Forbidden as exc:
            raise ApiError(403, exc.code, exc.message) from None
        except InvalidInput as exc:
            raise ApiError(422, exc.code, exc.message, errors=exc.errors or None) from None
        except LedgerError as exc:
            raise ApiError(409, exc.code, exc.message) from None
        except InputError as exc:
            message = "the request is not valid" if exc.code == "invalid_request" else \
                next(iter(m for msgs in exc.errors.values() for m in msgs), exc.code)
            raise ApiError(422, exc.code, message, errors=exc.errors) from None
        except OperationalError as exc:
            if "locked" in str(exc.orig) or "busy" in str(exc.orig):
                raise ApiError(503, "database_busy", "the ledger is busy; retry shortly",
                               headers={"Retry-After": "1"}) from None
            raise
    return wrapper


def request_language() -> str:
    return language(request.headers.get("Accept-Language"))


def _revive(value, key=None):
    """The raw values messages are rendered from: amounts as Decimal, dates as date."""
    if isinstance(value, dict):
        return {k: _revive(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    if isinstance(value, str) and key in AMOUNT_KEYS and value != "unlimited":
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    if isinstance(value, str) and key == "date":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def localized(decision: dict, lang: str, product: str | None = None, seat_type: str | None = None) -> dict:
    """A copy of ``decision`` (a Decision.to_dict()) with end-user messages, as
    POST /v1/decisions gives them."""
    out = {k: (list(map(dict, v)) if isinstance(v, list) and v and isinstance(v[0], dict) else v)
           for k, v in decision.items()}
    if out.get("transition"):
        out["transition"] = dict(out["transition"])
    raw = SimpleNamespace(plan=decision["plan"], reasons=_revive(decision["reasons"]),
                          resume=_revive(decision["resume"]), notifications=_revive(decision["notifications"]),
                          transition=_revive(decision["transition"]))
    payload = {"member": {"seat_type": seat_type} if seat_type else {}, "event": {"product": product}}
    localize(raw, out, payload, services().policies.active().policy, lang)
    return out


def json_response(body, status: int = 200, headers: dict | None = None, lang: str | None = None):
    response = current_app.response_class(dumps(body), status=status, content_type="application/json")
    if lang:
        response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
