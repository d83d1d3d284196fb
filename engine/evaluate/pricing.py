"""Charges: exact Decimal lines, made by the pricing functions rules name.

A rule says *whether* to charge (`charge: seats_added`, a name the event
table declares: events.CHARGES); the function here says *how much*, from
the rate card and seat prices in force on the day.
Amounts are exact: nothing is rounded here (see money.py for where it is).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from decimal import Decimal

from ..errors import InputError
from ..events import CHARGES
from ..load.rate_card import ModelRates
from ..money import ZERO, fmt
from ..vocabulary import TOKEN_CLASSES

TERM_MONTHS = 12


@dataclass(frozen=True)
class ChargeLine:
    kind: str  # usage, included_usage, extra_usage, seat_fee, hipaa_addon, seat_upgrade
    item: str  # token class, seat type or model
    quantity: int  # tokens, or seats
    unit_price: Decimal  # USD per token, or per seat per month
    amount: Decimal  # exact USD
    model: str | None = None
    tier: str | None = None
    months: int | None = None
    value: Decimal | None = None  # usage value at API rates, where it differs from amount

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "item": self.item, "quantity": self.quantity,
               "unit_price": fmt(self.unit_price), "amount": fmt(self.amount)}
        if self.model is not None:
            out["model"] = self.model
        if self.tier is not None:
            out["tier"] = self.tier
        if self.months is not None:
            out["months"] = self.months
        if self.value is not None:
            out["value"] = fmt(self.value)
        return out


def price_tokens(model: str, rates: ModelRates, tokens: dict) -> list[ChargeLine]:
    tier, card = rates.tier(tokens)
    lines = []
    for token_class in TOKEN_CLASSES:
        count = tokens.get(token_class, 0)
        if count:
            unit = card.per_token(token_class)
            lines.append(ChargeLine("usage", token_class, count, unit, unit * count, model=model, tier=tier))
    return lines


def total(lines) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


# Pricing functions, by the name rules use. Each takes the decision context.

def usage(ctx) -> list[ChargeLine]:
    return list(ctx.usage_lines)


def included_usage(ctx) -> list[ChargeLine]:
    """The part of this usage the seat's allowance covers: shown, not billed (P1)."""
    if not ctx.usage_lines:
        return []
    tokens = sum(line.quantity for line in ctx.usage_lines)
    return [ChargeLine("included_usage", ctx.model, tokens, ZERO, ZERO, model=ctx.model, value=ctx.included_part)]


def extra_usage(ctx) -> list[ChargeLine]:
    """The part beyond the allowance, at API rates (P2)."""
    if ctx.extra_part <= 0:
        return []
    tokens = sum(line.quantity for line in ctx.usage_lines)
    return [ChargeLine("extra_usage", ctx.model, tokens, ZERO, ctx.extra_part, model=ctx.model, value=ctx.usage_cost)]


def _seat_lines(seat_type, count, months, prices, hipaa_count=0, kind="seat_fee") -> list[ChargeLine]:
    monthly = prices.monthly[seat_type]
    lines = [ChargeLine(kind, seat_type, count, monthly, monthly * count * months, months=months)]
    if hipaa_count:
        addon = prices.hipaa_addon_monthly[seat_type]
        lines.append(ChargeLine("hipaa_addon", seat_type, hipaa_count, addon, addon * hipaa_count * months,
                                months=months))
    return lines


def _months(ctx, prorate: str) -> int:
    """The months a seat change is charged for: the rest of the annual term
    (S3), or the current billing period only (seats billed monthly, P1)."""
    return 1 if prorate == "period" else ctx.months_remaining


def seats_added(ctx, prorate: str = "term") -> list[ChargeLine]:
    """S3: added seats are charged at once, for the months left in the term (or this period)."""
    event = ctx.event
    count = event["count"]
    return _seat_lines(ctx.target_seat_type, count, _months(ctx, prorate), ctx.seat_prices,
                       hipaa_count=count if event.get("hipaa") else 0)


def seat_upgrade(ctx, prorate: str = "term") -> list[ChargeLine]:
    """D8: the monthly difference for the months left in the term (or this period)."""
    prices = ctx.seat_prices.monthly
    difference = prices[ctx.event["to"]] - prices[ctx.event["from"]]
    if difference <= 0:
        return []
    months = _months(ctx, prorate)
    return [ChargeLine("seat_upgrade", ctx.event["to"], 1, difference, difference * months, months=months)]


def period_seats(ctx) -> list[ChargeLine]:
    """P1: a monthly seat fee, for every seat held when the period starts."""
    seats = ctx.organization.get("seats")
    if seats is None:
        raise InputError.field("invalid_request", "organization.seats",
                               "the seats held are needed to charge this period's seat fees")
    lines = []
    for seat_type, count in sorted(seats.items()):
        if count:
            lines += _seat_lines(seat_type, count, 1, ctx.seat_prices)
    return lines


def term_seats(ctx, as_seat_type: str | None = None) -> list[ChargeLine]:
    """S2: every seat of the new term, upfront for twelve months.

    ``as_seat_type`` prices all seats as that type (the move to the single
    Enterprise seat at renewal, R1/R2); HIPAA add-ons belong to the old seat.
    """
    seats = ctx.organization.get("seats") or {}
    if as_seat_type:
        count = sum(seats.values())
        return _seat_lines(as_seat_type, count, TERM_MONTHS, ctx.seat_prices) if count else []
    hipaa = ctx.organization.get("hipaa_seats", 0)
    lines = []
    for seat_type, count in sorted(seats.items()):
        if count:
            lines += _seat_lines(seat_type, count, TERM_MONTHS, ctx.seat_prices,
                                 hipaa_count=min(hipaa, count) if seat_type in ctx.seat_prices.hipaa_addon_monthly
                                 else 0)
    return lines


# The pricing function of each charge a rule may name (events.CHARGES), by that name.
PRICES = {"usage": usage, "included_usage": included_usage, "extra_usage": extra_usage, "seats_added": seats_added,
          "seat_upgrade": seat_upgrade, "term_seats": term_seats, "period_seats": period_seats}
assert {name: tuple(inspect.signature(price).parameters)[1:] for name, price in PRICES.items()} == CHARGES, \
    "every charge of events.CHARGES is priced here, with the parameters it declares"
