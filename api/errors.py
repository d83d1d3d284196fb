"""The one error shape (RFC 9457 problem+json) and the one place that maps
failures to HTTP.

    {"code": "invalid_request", "status": 422, "title": "Unprocessable Content",
     "message": "...", "errors": {"event.model": ["..."]}}

`errors` (field path -> messages) is present for validation failures only.
Raise ``ApiError`` anywhere in a view; anything unexpected becomes a generic
500 whose details go to the log only.
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Response
from werkzeug.exceptions import HTTPException

PROBLEM = "application/problem+json"
log = logging.getLogger("tariff.api")

# Stable codes for the HTTP errors raised outside our views.
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 413: "body_too_large",
    415: "unsupported_media_type", 422: "invalid_request", 500: "internal_error",
    503: "unavailable",
}


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
    from .jsonio import dumps
    body = dumps(problem_body(status, code, message, errors, **extra))
    return Response(body, status=status, headers=headers, content_type=PROBLEM)


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


def handle_api_error(error: ApiError) -> Response:
    return problem_response(error.status, error.code, error.message, error.errors, error.headers, **error.extra)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs / flask-smorest validation failure
        return problem_response(status, "invalid_request", "the request is not valid",
                                from_webargs(data["messages"]))
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    message = {404: "no such resource", 405: "method not allowed on this resource",
               413: "the request body is larger than this service accepts"}.get(status, error.description)
    return problem_response(status, HTTP_CODES.get(status, f"http_{status}"), message, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    log.error("unhandled error", exc_info=(type(original), original, original.__traceback__))
    return problem_response(500, "internal_error", "internal error; it has been logged")


def register(app) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


