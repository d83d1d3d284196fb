"""The effective-dated rate card: API prices per model, as in force on a day.

Entries only list what changes on their date; the card in force on a day is
every entry up to that day applied in order. History is never edited, so a
past usage is always priced as it was.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..vocabulary import PROMPT_CLASSES, TOKEN_CLASSES
from .where import Where

PER_TOKENS = Decimal(1_000_000)  # rates are USD per million tokens


class UnknownModel(LookupError):
    def __init__(self, model: str, day: date):
        self.model, self.day = model, day
        super().__init__(f"no rates for model {model!r} on {day.isoformat()}")


@dataclass(frozen=True)
class Rates:
    per_million: dict  # token class -> Decimal

    def per_token(self, token_class: str) -> Decimal:
        return self.per_million[token_class] / PER_TOKENS


@dataclass(frozen=True)
class ModelRates:
    base: Rates
    long_context: Rates | None = None
    above_prompt_tokens: int | None = None

    def tier(self, tokens: dict) -> tuple[str, Rates]:
        """Long-context rates apply when the whole prompt exceeds the threshold."""
        if self.long_context is not None:
            prompt = sum(tokens.get(c, 0) for c in PROMPT_CLASSES)
            if prompt > self.above_prompt_tokens:
                return "long_context", self.long_context
        return "standard", self.base


def model_rates(spec: dict) -> ModelRates:
    """A model's validated rates (load/files.py ModelRatesSchema)."""
    base = Rates({c: spec[c] for c in TOKEN_CLASSES})
    long = spec.get("long_context")
    if long is None:
        return ModelRates(base)
    return ModelRates(base, Rates({c: long[c] for c in TOKEN_CLASSES}), long["above_prompt_tokens"])


@dataclass(frozen=True)
class RateEntry:
    """One rate_card entry as written: the models priced (or re-priced) and retired from its day."""
    effective_from: date
    models: dict  # model -> ModelRates
    retire: tuple = ()
    where: Where | None = field(default=None, compare=False)

    @classmethod
    def load(cls, spec: dict, where: Where | None = None) -> "RateEntry":
        """From a validated entry (load/files.py RateCardEntrySchema)."""
        return cls(spec["effective_from"], {m: model_rates(r) for m, r in spec["models"].items()},
                   tuple(spec["retire"]), where)


class RateCard:
    def __init__(self, entries):
        """``entries``: RateEntry objects, in the order written (file by file)."""
        self.entries = tuple(entries)
        self._days: list[date] = []
        self._cards: list[dict] = []
        card: dict = {}
        for entry in sorted(self.entries, key=lambda e: e.effective_from):
            card = dict(card)
            for model in entry.retire:
                card.pop(model, None)
            card.update(entry.models)
            self._days.append(entry.effective_from)
            self._cards.append(card)

    def models_on(self, day: date) -> dict:
        i = bisect.bisect_right(self._days, day)
        return self._cards[i - 1] if i else {}

    def rates(self, model: str, day: date) -> ModelRates:
        found = self.models_on(day).get(model)
        if found is None:
            raise UnknownModel(model, day)
        return found

    @property
    def first_day(self) -> date | None:
        return self._days[0] if self._days else None

    def all_models(self) -> set[str]:
        return set().union(*(card.keys() for card in self._cards)) if self._cards else set()


@dataclass(frozen=True)
class SeatPrices:
    monthly: dict
    hipaa_addon_monthly: dict
    included_usage_monthly: dict
    example: bool


PRICE_LISTS = ("monthly", "hipaa_addon_monthly", "included_usage_monthly")


@dataclass(frozen=True)
class SeatPriceEntry:
    """One seat_prices entry as written: the prices that change from its day (seat type -> USD)."""
    effective_from: date
    monthly: dict = field(default_factory=dict)
    hipaa_addon_monthly: dict = field(default_factory=dict)
    included_usage_monthly: dict = field(default_factory=dict)
    example: bool = False
    where: Where | None = field(default=None, compare=False)

    @classmethod
    def load(cls, spec: dict, where: Where | None = None) -> "SeatPriceEntry":
        """From a validated entry (load/files.py SeatPricesEntrySchema)."""
        return cls(spec["effective_from"], *(dict(spec.get(k, {})) for k in PRICE_LISTS),
                   spec.get("example", False), where)


class SeatPriceList:
    """Seat prices, effective-dated the same way as the rate card."""

    def __init__(self, entries):
        """``entries``: SeatPriceEntry objects, in the order written (file by file)."""
        self.entries = tuple(entries)
        self._days, self._lists = [], []
        current = {k: {} for k in PRICE_LISTS}
        for entry in sorted(self.entries, key=lambda e: e.effective_from):
            current = {k: {**current[k], **getattr(entry, k)} for k in PRICE_LISTS}
            self._days.append(entry.effective_from)
            self._lists.append(SeatPrices(*(current[k] for k in PRICE_LISTS), entry.example))

    @property
    def first_day(self) -> date | None:
        return self._days[0] if self._days else None

    def on(self, day: date) -> SeatPrices | None:
        i = bisect.bisect_right(self._days, day)
        return self._lists[i - 1] if i else None
