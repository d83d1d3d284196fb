"""Column types for money and time.

Money is a ``Decimal`` in Python and exact in the database:

- PostgreSQL: ``NUMERIC(30, 9)``, exact, nine decimals (amounts are exact to
  the nano-dollar, see engine/money.py).
- SQLite has no exact decimal type: a ``NUMERIC`` column stores ``0.1`` as a
  binary float, and ``SUM`` adds floats. So on SQLite a money column holds
  whole nano-dollars in a 64-bit ``INTEGER`` (exact, and ``SUM`` stays
  integer: about ±9.2 billion USD before SQLite raises an overflow error
  rather than rounding).

Floats are refused on the way in, and amounts with more than nine decimals
too: nothing is ever rounded silently here.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.types import TypeDecorator

SCALE = 9
_NANO = Decimal(10) ** SCALE


class Money(TypeDecorator):
    impl = Numeric(30, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(30, SCALE, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, (float, bool)):
            raise TypeError(f"money is Decimal, not {type(value).__name__}")
        amount = value if isinstance(value, Decimal) else Decimal(value)
        nano = amount * _NANO
        if nano != nano.to_integral_value():
            raise ValueError(f"{amount} USD has more than {SCALE} decimal places")
        if dialect.name == "sqlite":
            return int(nano)
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):  # never written by us; refuse to guess
                raise TypeError("a float in a money column")
            return Decimal(int(value)).scaleb(-SCALE)
        return Decimal(value)

    @property
    def python_type(self):
        return Decimal


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in, an aware UTC datetime out (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    @property
    def python_type(self):
        return datetime
