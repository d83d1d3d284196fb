"""engine.rate_card: effective-dated API rates, long-context tiers, seat prices."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tariff.engine.load.rate_card import RateCard, RateEntry, SeatPriceEntry, SeatPriceList, UnknownModel

D = Decimal


def rates(policy, model, day):
    return policy.rate_card.rates(model, day)


@pytest.mark.parametrize("model, per_million", [
    ("claude-opus-4-6", ("5", "25", "6.25", "10", "0.50")),
    ("claude-opus-4-5", ("5", "25", "6.25", "10", "0.50")),
    ("claude-opus-4-1", ("15", "75", "18.75", "30", "1.50")),
    ("claude-opus-4", ("15", "75", "18.75", "30", "1.50")),
    ("claude-sonnet-4-6", ("3", "15", "3.75", "6", "0.30")),
    ("claude-sonnet-4-5", ("3", "15", "3.75", "6", "0.30")),
    ("claude-sonnet-4", ("3", "15", "3.75", "6", "0.30")),
    ("claude-haiku-4-5", ("1", "5", "1.25", "2", "0.10")),
    ("claude-haiku-3-5", ("0.80", "4", "1", "1.60", "0.08")),
    ("claude-haiku-3", ("0.25", "1.25", "0.30", "0.50", "0.03")),
])
def test_the_shipped_card_has_the_spec_rates(policy, model, per_million):
    card = rates(policy, model, date(2026, 6, 1)).base.per_million
    classes = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
    assert {c: card[c] for c in classes} == {c: D(v) for c, v in zip(classes, per_million)}
    assert all(isinstance(card[c], Decimal) for c in classes)


def test_per_token_prices_are_exact(policy):
    haiku = rates(policy, "claude-haiku-4-5", date(2026, 1, 1)).base
    assert haiku.per_token("input") == D("0.000001")
    assert rates(policy, "claude-haiku-3", date(2026, 1, 1)).base.per_token("cache_read") == D("0.00000003")


@pytest.mark.parametrize("model, first_day", [
    ("claude-opus-4-5", date(2025, 11, 24)),
    ("claude-opus-4-6", date(2026, 2, 5)),
    ("claude-sonnet-4-6", date(2026, 2, 5)),
    ("claude-haiku-4-5", date(2025, 1, 1)),
])
def test_a_model_is_unknown_before_its_effective_date(policy, model, first_day):
    assert rates(policy, model, first_day) is not None
    with pytest.raises(UnknownModel) as info:
        rates(policy, model, date.fromordinal(first_day.toordinal() - 1))
    assert info.value.model == model
    assert model in str(info.value)


def test_nothing_is_known_before_the_first_entry(policy):
    assert policy.rate_card.first_day == date(2025, 1, 1)
    assert policy.rate_card.models_on(date(2024, 12, 31)) == {}
    with pytest.raises(UnknownModel):
        rates(policy, "claude-haiku-4-5", date(2024, 12, 31))


def test_an_unknown_model_is_an_error_never_a_zero_price(policy):
    with pytest.raises(UnknownModel):
        rates(policy, "claude-imaginary-9", date(2026, 6, 1))


@pytest.mark.parametrize("model", ["claude-sonnet-4", "claude-sonnet-4-5"])
def test_long_context_starts_above_200000_prompt_tokens(policy, model):
    model_rates = rates(policy, model, date(2026, 6, 1))
    assert model_rates.above_prompt_tokens == 200_000
    assert model_rates.tier({"input": 200_000, "output": 10**6})[0] == "standard"
    tier, card = model_rates.tier({"input": 200_001})
    assert tier == "long_context"
    assert {c: card.per_million[c] for c in card.per_million} == {
        "input": D(6), "output": D("22.50"), "cache_write_5m": D("7.50"), "cache_write_1h": D(12),
        "cache_read": D("0.60")}


def test_the_prompt_counts_cache_writes_and_reads_but_not_output(policy):
    model_rates = rates(policy, "claude-sonnet-4", date(2026, 6, 1))
    assert model_rates.tier({"input": 100_000, "cache_write_5m": 50_000, "cache_write_1h": 25_000,
                             "cache_read": 25_001})[0] == "long_context"
    assert model_rates.tier({"input": 100_000, "cache_read": 100_000, "output": 500_000})[0] == "standard"


@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"])
def test_models_without_a_long_context_surcharge(policy, model):
    assert rates(policy, model, date(2026, 6, 1)).tier({"input": 10**7})[0] == "standard"


def _entry(day, models=None, retire=()):
    return RateEntry.load({"effective_from": day, "models": models or {}, "retire": list(retire)})


def _model(price):
    return {c: D(price) for c in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")}


def test_a_later_entry_changes_prices_from_its_day_and_history_stays():
    card = RateCard([_entry(date(2026, 3, 1), {"m": _model("2")}),
                     _entry(date(2026, 1, 1), {"m": _model("1"), "old": _model("9")}),
                     _entry(date(2026, 6, 1), retire=["old"])])
    assert card.rates("m", date(2026, 2, 28)).base.per_million["input"] == D(1)
    assert card.rates("m", date(2026, 3, 1)).base.per_million["input"] == D(2)
    assert card.rates("old", date(2026, 5, 31)).base.per_million["input"] == D(9)
    with pytest.raises(UnknownModel):
        card.rates("old", date(2026, 6, 1))
    assert card.rates("m", date(2030, 1, 1)).base.per_million["input"] == D(2)
    assert card.all_models() == {"m", "old"}


def test_seat_prices_are_effective_dated_and_labelled_as_examples(policy):
    prices = policy.seat_prices.on(date(2026, 4, 1))
    assert prices.example is True
    assert prices.monthly == {"enterprise": D(60), "chat": D(30), "chat_code": D(90), "standard": D(40),
                              "premium": D(150)}
    assert prices.hipaa_addon_monthly == {"chat": D(5)}
    assert prices.included_usage_monthly == {"standard": D(25), "premium": D(100)}
    assert policy.seat_prices.on(date(2024, 12, 31)) is None


def test_a_seat_price_entry_changes_only_what_it_lists():
    prices = SeatPriceList([
        SeatPriceEntry.load({"effective_from": date(2026, 1, 1), "monthly": {"a": D(10), "b": D(20)}}),
        SeatPriceEntry.load({"effective_from": date(2026, 7, 1), "monthly": {"a": D(11)}, "example": True}),
    ])
    assert prices.on(date(2026, 6, 30)).monthly == {"a": D(10), "b": D(20)}
    assert prices.on(date(2026, 7, 1)).monthly == {"a": D(11), "b": D(20)}
    assert prices.on(date(2026, 7, 1)).example is True
