"""JSON in and out without floats: numbers in a body parse as Decimal, and a
Decimal is written as its exact digits in a string.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from uuid import UUID

from flask import Response, current_app, request
from flask.json.provider import DefaultJSONProvider

from .errors import ApiError


def _no_constants(name):
    raise ValueError(f"{name} is not a number JSON allows")


def loads(data):
    return json.loads(data, parse_float=Decimal, parse_constant=_no_constants)


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
    """``body`` as an application/json response; ``lang``: its Content-Language
    (the language of the end-user messages in it)."""
    response = current_app.response_class(dumps(body), status=status, content_type="application/json")
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
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("parse_constant", _no_constants)
        return json.loads(s, **kwargs)


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
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "the body is nested too deeply") from None
