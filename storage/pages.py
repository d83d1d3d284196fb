"""Cursor pagination, one way for every list: keyset on a unique, ordered
key (a row's pk, a member's id, an invoice's period), so a page never skips
or repeats a row when rows are added between requests, and a deep page
costs what the first one does (no OFFSET).

The cursor is opaque to callers: the last key of the page, as JSON in
URL-safe base64. A cursor this service did not give is a 422 naming
``cursor``, never a 500.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Callable, Sequence

from tariff.engine import inputs as edge

from .errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_NOT_OURS = "not a cursor this list gave; start again without one"


def encode(key: int | str) -> str:
    return base64.urlsafe_b64encode(json.dumps([key], separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None, kind: type) -> Any:
    """The key a ``cursor`` stands for (``kind``: int for pks, str for ids), or None."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput.field("cursor", _NOT_OURS, "invalid_cursor") from None
    if type(key) is not kind or (kind is int and not 0 <= key <= edge.INT64_MAX) or \
            (kind is str and (not key or edge.text_problem(key))):
        raise InvalidInput.field("cursor", _NOT_OURS, "invalid_cursor")
    return key


def after(query, column, cursor: str | None, kind: type, limit: int):
    """``query`` ordered by ``column`` from just past ``cursor``, one row more
    than a page (to know whether another page follows)."""
    key = decode(cursor, kind)
    if key is not None:
        query = query.where(column > key)
    return query.order_by(column).limit(limit + 1)


def page(rows: Sequence, limit: int, key: Callable[[Any], int | str], view: Callable[[Any], dict]) -> dict:
    """``{"items": [...], "next": cursor or None}`` of rows fetched by ``after``."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [view(row) for row in rows], "next": encode(key(rows[-1])) if more and rows else None}
