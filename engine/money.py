"""Money: exact ``Decimal`` USD everywhere, integers only at the engine's edge.

durable_rules compares numbers in C. To keep comparisons exact, amounts enter
its facts as whole nano-dollars (10^-9 USD) in int64: exact to the nano-dollar
(a rate card price per million tokens with up to three decimals gives a
per-token price in whole nano-dollars) and good up to about 9.2 billion USD.

Rounding rule: a decision's charges are exact and never rounded. Rounding to
cents happens once, where an invoice line is made (``invoice_line_amount``:
half-up to 0.01 USD), and an invoice's total is the sum of its rounded lines,
so lines always add up to the total.
"""
from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, Inexact

NANO = Decimal("0.000000001")
MAX_AMOUNT = Decimal("1000000000")  # 1e9 USD: far below int64 nano overflow
CENT = Decimal("0.01")
ZERO = Decimal(0)
# Wide and exact: scaling must never round an amount into range.
_EXACT = Context(prec=80, traps=[Inexact])
# Normalizing never rounds under this one (the default context's 28 digits would).
_UNBOUNDED = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


class AmountError(ValueError):
    """An amount that cannot be represented exactly."""


def to_nano(amount: Decimal) -> int:
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts are Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise AmountError(f"{amount} is not a finite amount")
    if amount.is_zero():
        return 0  # whatever its exponent (0E+999999999)
    if amount.copy_abs() > MAX_AMOUNT:  # copy_abs: no context, so no Overflow
        raise AmountError(f"{amount} USD is beyond the supported range of ±{MAX_AMOUNT} USD")
    if amount.adjusted() < -9:
        raise AmountError(f"{amount} USD has more than 9 decimal places")
    if amount.as_tuple().exponent >= -9:  # the common case: exact as it stands
        return int(amount.scaleb(9, context=_EXACT))
    nano = amount.scaleb(9, context=_EXACT)
    if nano != nano.to_integral_value():
        raise AmountError(f"{amount} USD has more than 9 decimal places")
    return int(nano)


def from_nano(nano: int) -> Decimal:
    return Decimal(nano).scaleb(-9)


def fmt(amount: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: '0.000001', '12.5', '40'.
    ``str`` first (a quarter of normalize-and-format's time, and a usage record formats
    about twenty amounts); it writes an exponent only for large exponents or more than
    six leading zeros, which take the long way."""
    if not amount:
        return "0"  # whatever its sign and exponent ('0E-9' from nano-dollars)
    text = str(amount)
    if "E" in text:
        text = format(amount.normalize(_UNBOUNDED), "f")
    elif "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def invoice_line_amount(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
