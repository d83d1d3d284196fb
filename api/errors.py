"""The one error shape (RFC 9457 problem+json) and the one place that maps
failures to HTTP.

    {"code": "invalid_request", "status": 422, "title": "Unprocessable Content",
     "message": "...", "errors": {"event.model": ["..."]}}

`errors` (field path -> messages) is present for validation failures only.
Views raise and never catch to translate: every error class is mapped here:

| raised                                   | status | code                                      |
|------------------------------------------|--------|-------------------------------------------|
| ApiError (this module)                   | its own| its own                                   |
| werkzeug HTTPException (routing, size)   | its own| HTTP_CODES; argument errors invalid_request|
| engine InputError                        | 422    | its code (invalid_request, unknown_model…) |
| ledger NotFound                          | 404    | its code (organization_not_found…)        |
| ledger Conflict                          | 409    | its code (organization_exists…)           |
| ledger InvalidInput                      | 422    | its code, with errors                     |
| ledger Refused (the policy said no)      | 403 for role_not_allowed, else 409, with the decision |
| other LedgerError                        | 409    | its code                                  |
| ledger DatabaseBusy                      | 503    | database_busy, Retry-After: 1             |
| ledger DatabaseUnavailable               | 503    | database_unavailable (logged)             |
| any other database (DBAPI) error         | 500    | database_error (logged, no SQL shown)     |
| policy store Refused (reload)            | 409    | policy_invalid / fixtures_failed          |
| policy store Unreadable (validate)       | 422    | policy_unreadable (logged)                |
| anything else                            | 500    | internal_error (logged)                   |

A refusal's decision is rendered here like every decision the API answers
(``messages.decision_json``: end-user messages in the request's language).
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Response
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from tariff.engine import InputError
from tariff.storage import (Conflict, DatabaseBusy, DatabaseUnavailable, InvalidInput, LedgerError,
                            NotFound, Refused)

PROBLEM = "application/problem+json"
log = logging.getLogger("tariff.api")

# Stable codes for the HTTP errors raised outside our views.
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 413: "body_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 500: "internal_error",
    503: "unavailable",
}
# The ledger's kinds of failure (storage/errors.py); a subclass not listed is a 409.
LEDGER_STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 422}


class ApiError(Exception):
    """A failure to report as problem+json. ``extra`` adds members to the body."""

    def __init__(self, status: int, code: str, message: str | None = None, *, errors: dict | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(message or code)
        self.status, self.code, self.message = status, code, message
        self.errors, self.headers, self.extra = errors, headers or {}, extra

    def body(self) -> dict:
        return problem_body(self.status, self.code, self.message, self.errors, **self.extra)


def title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(status: int, code: str, message: str | None = None, errors: dict | None = None,
                 **extra) -> dict:
    body = {"code": code, "status": status, "title": title(status), "message": message or title(status)}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(status: int, code: str, message: str | None = None, errors: dict | None = None,
                     headers: dict | None = None, **extra) -> Response:
    return respond(problem_body(status, code, message, errors, **extra), headers)


def respond(body: dict, headers: dict | None = None) -> Response:
    """A problem body as the response."""
    from .jsonio import dumps
    return Response(dumps(body), status=body["status"], headers=headers, content_type=PROBLEM)


def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"a.b.0.c": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for p, m in flatten(value, path).items():
                out.setdefault(p, []).extend(m)
    elif isinstance(messages, (list, tuple)):
        for m in messages:
            if isinstance(m, (dict, list, tuple)):
                for p, mm in flatten(m, prefix).items():
                    out.setdefault(p, []).extend(mm)
            else:
                out.setdefault(prefix or "body", []).append(str(m))
    else:
        out.setdefault(prefix or "body", []).append(str(messages))
    return out


def from_webargs(messages: dict) -> dict[str, list[str]]:
    """webargs keys messages by location: the JSON body's paths stay bare,
    others are prefixed ("query.explain")."""
    out: dict[str, list[str]] = {}
    for location, inner in (messages or {}).items():
        for p, m in flatten(inner, "" if location == "json" else location).items():
            out.setdefault(p, []).extend(m)
    return out


# -- the map -------------------------------------------------------------------

def input_problem(exc: InputError) -> dict:
    """A decision request the engine refused, as a problem body (also each failed item of a batch)."""
    if exc.code == "invalid_request":
        message = "the decision request is not valid"
    else:  # unknown_plan, unknown_model, unsupported_event: say which
        message = next(iter(m for msgs in exc.errors.values() for m in msgs), exc.code)
    return problem_body(422, exc.code, message, exc.errors)


def item_problem(error: Exception) -> dict:
    """The problem body of one failed item of a batch (usage records): the
    status and code it would get alone, by the map above."""
    if isinstance(error, InputError):
        return input_problem(error)
    if isinstance(error, DatabaseUnavailable):
        return problem_body(503, error.code, error.message)
    status = next((s for kind, s in LEDGER_STATUS.items() if isinstance(error, kind)), 409)
    return problem_body(status, error.code, error.message, error.errors or None)  # a batch names the field


def handle_api_error(error: ApiError) -> Response:
    return problem_response(error.status, error.code, error.message, error.errors, error.headers, **error.extra)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs / flask-smorest argument validation
        return problem_response(status, "invalid_request", "the request is not valid",
                                from_webargs(data["messages"]))
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    message = {404: "no such resource", 405: "method not allowed on this resource",
               413: "the request body is larger than this service accepts"}.get(status, error.description)
    return problem_response(status, HTTP_CODES.get(status, f"http_{status}"), message, headers=headers)


def handle_input_error(error: InputError) -> Response:
    return respond(input_problem(error))


def handle_ledger_error(error: LedgerError) -> Response:
    if isinstance(error, Refused):
        from .messages import decision_json, request_language
        status = 403 if error.code == "role_not_allowed" else 409
        return problem_response(status, error.code, error.message,
                                decision=decision_json(error.decision, request_language()))
    status = next((s for kind, s in LEDGER_STATUS.items() if isinstance(error, kind)), 409)
    errors = (error.errors or None) if isinstance(error, InvalidInput) else None
    return problem_response(status, error.code, error.message, errors)


def handle_database_unavailable(error: DatabaseUnavailable) -> Response:
    if isinstance(error, DatabaseBusy):
        return problem_response(503, error.code, error.message, headers={"Retry-After": "1"})
    log.error("the ledger's database failed", exc_info=error)
    return problem_response(503, error.code, error.message)


def handle_database_error(error: DBAPIError) -> Response:
    log.error("database error", exc_info=error)
    return problem_response(500, "database_error", "the ledger's database refused the operation; it has been "
                                                   "logged")


def handle_reload_refused(error) -> Response:
    from .services import services
    served = services().policies.active().version
    extra = {"findings": error.findings} if error.code == "policy_invalid" else {"failures": error.failures}
    return problem_response(409, error.code, f"{error.message}; still serving {served}", served_version=served,
                            **extra)


def handle_policy_unreadable(error) -> Response:
    log.error("the policy loader failed on submitted files", exc_info=error.__cause__ or error)
    return problem_response(422, error.code, str(error))


def handle_unexpected(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    log.error("unhandled error", exc_info=(type(original), original, original.__traceback__))
    return problem_response(500, "internal_error", "internal error; it has been logged")


def register(app) -> None:
    """Flask picks the handler of the nearest class in an error's MRO."""
    from .policy_store import Refused as ReloadRefused, Unreadable
    for kind, handler in ((ApiError, handle_api_error), (HTTPException, handle_http_exception),
                          (InputError, handle_input_error), (LedgerError, handle_ledger_error),
                          (DatabaseUnavailable, handle_database_unavailable), (DBAPIError, handle_database_error),
                          (ReloadRefused, handle_reload_refused), (Unreadable, handle_policy_unreadable),
                          (Exception, handle_unexpected)):
        app.register_error_handler(kind, handler)
