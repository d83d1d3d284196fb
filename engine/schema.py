"""The engine's marshmallow parts, defined once: the strict schema base, exact
money, billing days, and marshmallow's nested error messages as paths.

Policy files (load/files.py) and decision requests (evaluate/request.py) are
both loaded with these.
"""
from __future__ import annotations

from datetime import datetime
import re
from decimal import Decimal, InvalidOperation

from marshmallow import RAISE, Schema, ValidationError, fields

from .inputs import DAYS
from .money import MAX_AMOUNT, AmountError, to_nano
from .vocabulary import UNLIMITED


class Strict(Schema):
    """Unknown fields are errors: a typo must not be silently ignored."""

    class Meta:
        unknown = RAISE


# An amount as text: ASCII digits, an optional sign, point and exponent; no spaces.
AMOUNT_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def amount_text_problem(value) -> str | None:
    """Why ``value`` (text) is not an amount's text, or None."""
    if isinstance(value, str) and not AMOUNT_TEXT.fullmatch(value):
        return "an amount is decimal text of ASCII digits (like 12.50), with no spaces"
    return None


class Money(fields.Decimal):
    """USD as an exact decimal: strings or decimals, never floats."""

    def __init__(self, *, minimum: Decimal | None = Decimal(0), **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (float, bool)):
            raise ValidationError("send amounts as decimal strings, not binary floats or booleans")
        problem = amount_text_problem(value)
        if problem:
            raise ValidationError(problem)
        return self.checked(super()._deserialize(value, attr, data, **kwargs))

    def checked(self, amount: Decimal) -> Decimal:
        """``amount`` if it is one this field takes (finite, at least its minimum, exact in nano-dollars)."""
        if not amount.is_finite():
            raise ValidationError("not a finite amount")
        if amount.is_zero():
            amount = Decimal(0)  # 0E+999999999 is zero: never scale its exponent
        elif amount.adjusted() > 9:
            raise ValidationError(f"beyond the supported range of ±{MAX_AMOUNT} USD")
        elif amount.adjusted() < -9:
            raise ValidationError("more than 9 decimal places")
        if self.minimum is not None and amount < self.minimum:
            raise ValidationError(f"must be at least {self.minimum}")
        if -MAX_AMOUNT <= amount <= MAX_AMOUNT and amount.as_tuple().exponent >= -9:
            return amount  # whole nano-dollars in range: what to_nano takes, without scaling it
        try:
            to_nano(amount)
        except AmountError as exc:
            raise ValidationError(str(exc)) from exc
        return amount

    def quick_checker(self, build):
        """The quick path (evaluate/quick.py): text, whole numbers and Decimals, checked as above."""
        checked, unlimited = self.checked, UNLIMITED if isinstance(self, Limit) else None

        def check(value):
            if type(value) not in (str, int, Decimal):
                raise ValueError("not plainly an amount")
            if value == unlimited:
                return value
            if amount_text_problem(value):
                raise ValueError("not plain amount text")
            try:
                return checked(Decimal(value))
            except InvalidOperation:
                raise ValueError("not a number") from None
        return check


class Limit(Money):
    """A spend limit: an amount, or "unlimited"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == UNLIMITED:
            return UNLIMITED
        return super()._deserialize(value, attr, data, **kwargs)



class Day(fields.Date):
    """A calendar day: ISO text or a ``date``; a datetime is not a day."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", DAYS)  # the supported days (inputs.DAYS), unless a field says otherwise
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, datetime):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def messages(errors, path: tuple = ()):
    """marshmallow's nested error messages as (path, message) pairs, in order;
    a schema-level message (``_schema``) belongs to its parent's path."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from messages(value, path if key == "_schema" else path + (key,))
    elif isinstance(errors, (list, tuple)):
        for message in errors:
            yield from messages(message, path)
    else:
        yield path, str(errors)


def flatten_messages(errors, root: str = "request") -> dict[str, list[str]]:
    """marshmallow's nested error messages as {"a.b.0.c": [messages]} (``root`` for the whole)."""
    out: dict[str, list[str]] = {}
    for path, message in messages(errors):
        out.setdefault(".".join(map(str, path)) or root, []).append(message)
    return out
