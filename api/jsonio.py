"""JSON in and out without floats: numbers in a body parse as Decimal, and a
Decimal is written as its exact digits in a string.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from flask import Response, current_app, request
from flask.json.provider import DefaultJSONProvider

import json

from tariff.engine import inputs

from .errors import ApiError


def loads(data):
    """Request JSON, strictly (engine/inputs.py: no duplicate keys, no NUL or
    lone surrogates, numbers in range, Decimal for fractions)."""
    return inputs.loads(data)


def default(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value) -> str:
    return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))


def json_response(body, status: int = 200, headers: dict | None = None, lang: str | None = None) -> Response:
    """``body`` as an application/json response (bytes: JSON already); ``lang``: its
    Content-Language (the language of the end-user messages in it)."""
    response = current_app.response_class(body if isinstance(body, bytes) else dumps(body), status=status,
                                          content_type="application/json")
    if lang:
        response.headers["Content-Language"] = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class DecimalJSONProvider(DefaultJSONProvider):
    sort_keys = False  # keep the engine's order: outcome first
    ensure_ascii = False
    default = staticmethod(default)

    def loads(self, s, **kwargs):
        return inputs.loads(s)


def read_json():
    """The request body as JSON, or a 400/415 problem. Body size is checked by
    Flask against MAX_CONTENT_LENGTH (413) while reading."""
    if not request.mimetype or not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = request.get_data(cache=True)
    try:
        return loads(raw)
    except UnicodeDecodeError:
        raise ApiError(400, "malformed_json", "the body is not UTF-8") from None
    except inputs.BadInput as exc:
        raise ApiError(400, "malformed_json", f"the body is not acceptable JSON: {exc}", errors=exc.errors()) from None
