"""The effective-dated rate card: API prices per model, as in force on a day.

Entries only list what changes on their date; the card in force on a day is
every entry up to that day applied in order. History is never edited, so a
past usage is always priced as it was.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

TOKEN_CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
PROMPT_CLASSES = ("input", "cache_write_5m", "cache_write_1h", "cache_read")
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


def _model_rates(spec: dict) -> ModelRates:
    base = Rates({c: spec[c] for c in TOKEN_CLASSES})
    long = spec.get("long_context")
    if long is None:
        return ModelRates(base)
    return ModelRates(base, Rates({c: long[c] for c in TOKEN_CLASSES}), long["above_prompt_tokens"])


class RateCard:
    def __init__(self, entries: list[dict]):
        """``entries``: validated rate_card entries (effective_from, models, retire)."""
        self._days: list[date] = []
        self._cards: list[dict] = []
        card: dict = {}
        for entry in sorted(entries, key=lambda e: e["effective_from"]):
            card = dict(card)
            for model in entry.get("retire", []):
                card.pop(model, None)
            card.update({m: _model_rates(spec) for m, spec in entry["models"].items()})
            self._days.append(entry["effective_from"])
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


class SeatPriceList:
    """Seat prices, effective-dated the same way as the rate card."""

    def __init__(self, entries: list[dict]):
        self._days, self._lists = [], []
        current = {"monthly": {}, "hipaa_addon_monthly": {}, "included_usage_monthly": {}}
        for entry in sorted(entries, key=lambda e: e["effective_from"]):
            current = {k: {**current[k], **entry.get(k, {})} for k in current}
            self._days.append(entry["effective_from"])
            self._lists.append(SeatPrices(current["monthly"], current["hipaa_addon_monthly"],
                                          current["included_usage_monthly"], entry.get("example", False)))

    def on(self, day: date) -> SeatPrices | None:
        i = bisect.bisect_right(self._days, day)
        return self._lists[i - 1] if i else None
