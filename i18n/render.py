"""Filling a catalog message with typed parameters, per language.

Formatting is decided by a value's type, not by the message: the same
Decimal limit reads "$1,234.50" in English and "1.234,50 $" in German
without billing staff writing any format codes into the catalogs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from .catalog import Catalogs, default_catalogs
from .errors import MissingParameter
from .template import placeholders

# Params whose value is an id, shown as that id's name from a catalog section.
NAMED_PARAMS = {"level": "levels", "product": "products",
                "seat_type": "seat_types", "plan": "plans"}

CURRENCY = "USD"  # every amount in the policy is US dollars


def render(section: str, code: str, params: dict, lang: str, *,
           catalogs: Catalogs | None = None) -> str:
    """The message for (section, code) in `lang`, filled from `params`.

    Params the message does not use are ignored: a caller passes the same
    params whatever the language. Raises UnknownMessage, MissingParameter,
    or TypeError/ValueError for a value that cannot be shown (e.g. a float).
    """
    if catalogs is None:
        catalogs = default_catalogs()
    template = catalogs.message(section, code, lang)
    values = {}
    for name in placeholders(template):
        if name not in params:
            raise MissingParameter(name, section, code, lang)
        values[name] = format_value(name, params[name], lang, catalogs)
    # Safe: placeholders() admitted only plain names, so format_map can do
    # nothing but substitute the strings prepared above.
    return template.format_map(values)


def format_value(name: str, value, lang: str, catalogs: Catalogs) -> str:
    """One parameter as text in `lang`."""
    if name in NAMED_PARAMS:
        if not isinstance(value, str):
            raise TypeError(f"parameter {name!r} must be an id (str), got {type(value).__name__}")
        return catalogs.message(NAMED_PARAMS[name], value, lang)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"parameter {name!r} is not a finite amount: {value}")
        return _currency(value, lang)
    if isinstance(value, date):  # datetime is a date too: shown as its day
        return _date(value if type(value) is date else date(value.year, value.month, value.day), lang)
    if isinstance(value, int) and not isinstance(value, bool):
        return _number(value, lang)
    if isinstance(value, str):
        return value
    # float above all: money must stay Decimal, so a float here is a bug upstream.
    raise TypeError(f"parameter {name!r}: cannot show a {type(value).__name__} "
                    f"(amounts are Decimal, dates are date, counts are int)")


# Babel parses the locale and the pattern on every call; limits, dates and
# thresholds repeat across decisions, so each formatted text is kept.
@lru_cache(maxsize=8192)
def _currency(value: Decimal, lang: str) -> str:
    # Babel rounds to the currency's 2 digits half-even, in Decimal.
    return format_currency(value, CURRENCY, locale=lang)


@lru_cache(maxsize=4096)
def _date(value: date, lang: str) -> str:
    return format_date(value, format="long", locale=lang)


@lru_cache(maxsize=4096)
def _number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)
