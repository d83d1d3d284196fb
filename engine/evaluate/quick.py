"""A quick path through request validation for requests that are plainly well formed.

marshmallow (``request.RequestSchema``) is the authority: it documents the
request, and it judges and words every error. But it costs more per decision
than durable_rules itself (bench/bench_engine.py --breakdown). This path accepts
only requests whose every value is already of the exact expected type and
range, and builds the very dict marshmallow would; for anything else, even
what marshmallow would accept (a bool written "true", say), it answers None
and marshmallow decides. Stricter, never looser: tests/engine check that
wherever it accepts, its result equals marshmallow's.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from .. import facts as F
from ..money import MAX_AMOUNT
from ..load.rate_card import TOKEN_CLASSES
from .request import CHANNELS, DATES, EVENT_FIELDS, ROLES, SYSTEM_EVENTS, TERM_EVENTS, UNLIMITED

TOP = frozenset({"plan", "as_of", "channel", "organization", "seat_type_pool", "member", "event"})
CENT = Decimal("0.01")


class _Unsure(Exception):
    """Not plainly well formed: let marshmallow judge."""


def _text(value):
    if type(value) is not str:
        raise _Unsure
    return value


def _money(value, minimum=Decimal(0)):
    if type(value) not in (str, int, Decimal):
        raise _Unsure
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _Unsure from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT or amount.as_tuple().exponent < -9 \
            or (minimum is not None and amount < minimum):
        raise _Unsure
    return amount


def _limit(value):
    return UNLIMITED if value == UNLIMITED else _money(value)


def _day(value):
    if type(value) is not str or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise _Unsure
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _Unsure from None
    if not DATES.min <= day <= DATES.max:
        raise _Unsure
    return day


def _int(value, low, high=None):
    if type(value) is not int or value < low or (high is not None and value > high):
        raise _Unsure
    return value


def _bool(value):
    if type(value) is not bool:
        raise _Unsure
    return value


def _seats(value):
    if type(value) is not dict:
        raise _Unsure
    return {_text(k): _int(n, 0) for k, n in value.items()}


def _role(value):
    if value not in ROLES:
        raise _Unsure
    return value


ORGANIZATION = {"id": _text, "term_start": _day, "credit_balance": lambda v: _money(v, None), "seats": _seats,
                "hipaa_seats": lambda v: _int(v, 0), "extra_usage": _bool}
MEMBER = {"id": _text, "role": _role, "seat_type": _text, "included_used": _money}


def _level(source, extra: dict) -> dict:
    if type(source) is not dict:
        raise _Unsure
    out = {}
    for key, value in source.items():
        if key == "spend":
            out[key] = _money(value)
        elif key == "limit":
            out[key] = None if value is None else _limit(value)
        elif key == "notified_pct":
            out[key] = _int(value, 0, 1000)
        elif key in extra:
            out[key] = extra[key](value)
        else:
            raise _Unsure
    out.setdefault("notified_pct", 0)
    return out


def _tokens(value):
    if type(value) is not dict or not set(value) <= set(TOKEN_CLASSES):
        raise _Unsure
    tokens = {c: _int(value.get(c, 0), 0) for c in TOKEN_CLASSES}
    if not any(tokens.values()):
        raise _Unsure
    return tokens


def _amount(value):
    amount = _money(value)
    if amount < CENT:
        raise _Unsure
    return amount


def _model(value):
    if not 1 <= len(_text(value)) <= 200:
        raise _Unsure
    return value


def _level_name(value):
    if value not in F.LEVELS:
        raise _Unsure
    return value


EVENT = {"product": _text, "seat_type": _text, "from": _text, "to": _text, "model": _model, "tokens": _tokens,
         "estimate": _money, "count": lambda v: _int(v, 1, 1_000_000), "hipaa": _bool, "level": _level_name,
         "limit": _limit, "amount": _amount}


def _event(value) -> dict:
    if type(value) is not dict:
        raise _Unsure
    kind = value.get("type")
    if type(kind) is not str or kind not in EVENT_FIELDS:
        raise _Unsure
    required, optional = EVENT_FIELDS[kind]
    keys = set(value) - {"type"}
    if not required <= keys <= required | optional:
        raise _Unsure
    out = {key: EVENT[key](v) for key, v in value.items() if key != "type"}
    out["type"] = kind
    return out


def accept_well_formed(payload) -> dict | None:
    """marshmallow's result for a plainly well-formed request, else None."""
    try:
        if type(payload) is not dict or not set(payload) <= TOP:
            return None
        out = {"plan": _text(payload["plan"]), "as_of": _day(payload["as_of"]), "event": _event(payload["event"])}
        if "channel" in payload:
            if payload["channel"] not in CHANNELS:
                return None
            out["channel"] = payload["channel"]
        organization = {}  # marshmallow's load_default when absent: no nested defaults
        if "organization" in payload:
            organization = _level(payload["organization"], ORGANIZATION)
            organization.setdefault("hipaa_seats", 0)
            organization.setdefault("extra_usage", False)
        out["organization"] = organization
        for key, extra in (("member", MEMBER), ("seat_type_pool", {})):
            if key in payload:
                out[key] = _level(payload[key], extra)
        kind = out["event"]["type"]
        member = out.get("member")
        if (kind not in SYSTEM_EVENTS and member is None) or (member is not None and "role" not in member):
            return None
        if kind in TERM_EVENTS and "term_start" not in organization:
            return None
        if kind == "renewal" and "seats" not in organization:
            return None
        if kind in ("usage_precheck", "usage") and ("spend" not in organization
                                                     or (member is not None and "spend" not in member)):
            return None
        return out
    except (_Unsure, KeyError):
        return None
