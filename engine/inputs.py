"""Input checks at the edge, defined once: what the API (api/jsonio.py,
api/app.py, the schemas), the CLI (`tariff decide`) and the engine's own
request schema use to refuse input that is malformed beneath the schema.

- JSON: duplicate keys are refused (``{"amount": "1", "amount": "1000"}``
  must not mean 1000), floats parse as Decimal, NaN/Infinity are refused,
  numbers beyond ``MAX_INT_DIGITS`` digits or a ``MAX_EXPONENT`` exponent
  are refused, nesting is bounded (``MAX_DEPTH``).
- Text: no lone surrogates (not encodable as UTF-8) and no NUL (PostgreSQL
  cannot store it), in keys and values alike.
- Days: ``FIRST_DAY``..``LAST_DAY`` (2000-01-01..2999-12-31): wide enough for
  any contract and far from date.max, where the engine's period arithmetic
  (next month, a year's term) would overflow.
- Integers that reach the database (ids, cursors): int64.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from marshmallow import ValidationError, validate

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
DAY_RULE = f"must be a day from {FIRST_DAY} to {LAST_DAY}"
DAYS = validate.Range(min=FIRST_DAY, max=LAST_DAY, error=DAY_RULE)
INT64_MAX = 2 ** 63 - 1
INT64 = validate.Range(min=0, max=INT64_MAX, error=f"must be from 0 to {INT64_MAX}")
MAX_INT_DIGITS = 60
MAX_DEPTH = 64
MAX_EXPONENT = 400


class BadInput(ValueError):
    """Input refused at the edge: ``path`` names where (dotted, "body" for the whole)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path or "body", message

    def errors(self) -> dict[str, list[str]]:
        return {self.path: [self.message]}


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise BadInput(key, "appears more than once in the object")
        seen[key] = value
    return seen


def _no_constants(name):
    raise BadInput("body", f"{name} is not a number JSON allows")


def number_problem(value) -> str | None:
    """Why a JSON number is out of any range this service takes, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and len(str(abs(value))) > MAX_INT_DIGITS:
        return f"an integer of more than {MAX_INT_DIGITS} digits is out of range"
    if isinstance(value, Decimal) and value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        return f"the number's exponent is out of range (at most 1E+{MAX_EXPONENT})"
    return None


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


def check_text(value, path: str = "") -> None:
    """Every string (and key) in a decoded JSON value is acceptable text; bounded depth."""
    stack = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadInput(where, f"nested more than {MAX_DEPTH} deep")
        if isinstance(item, (int, Decimal)):
            problem = number_problem(item)
            if problem:
                raise BadInput(where, problem)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise BadInput(where, problem)
        elif isinstance(item, dict):
            for key, inner in item.items():
                at = f"{where}.{key}" if where else str(key)
                problem = text_problem(key)
                if problem:
                    raise BadInput(where or "body", f"a key {problem}")
                stack.append((inner, at, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, f"{where}.{i}" if where else str(i), depth + 1) for i, inner in enumerate(item))


def loads(data):
    """Request JSON (str or UTF-8 bytes) as Python values, or BadInput
    (ValueError; UnicodeDecodeError for bytes that are not UTF-8)."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8")
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_float=Decimal,
                           parse_constant=_no_constants)
    except RecursionError:
        raise BadInput("body", "nested too deeply") from None
    except BadInput:
        raise
    except ValueError as exc:  # JSONDecodeError
        raise BadInput("body", f"not valid JSON: {exc}") from None
    check_text(value)
    return value


def check_day(value, field: str = "date") -> None:
    """A ValidationError unless ``value`` (a date or datetime) is a supported day."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(DAY_RULE)
