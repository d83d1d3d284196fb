"""The quick validation path never disagrees with marshmallow.

The quick path (engine/evaluate/quick.py) is generated from RequestSchema
itself. Wherever it accepts a request, the result must be exactly what
RequestSchema.load gives; wherever marshmallow refuses, the quick path must
not accept. Checked on every fixture request, on the same requests with typed
values (``date``, ``Decimal``, as the ledger sends them), and on random
mutations of both.
"""
from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from tariff.engine.evaluate.request import _SCHEMA
from tariff.engine.evaluate.request import accept_well_formed
from tariff.engine.tools.verify import fixture_files, load_cases

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = [case.request for path in fixture_files([ROOT / "fixtures"]) for case in load_cases(path)]
DAYS = {"as_of", "term_start"}
AMOUNTS = {"spend", "limit", "credit_balance", "included_used", "estimate", "amount"}


def typed(value, key=None):
    """The request as a Python caller (the ledger) sends it: days as ``date``, amounts as ``Decimal``."""
    if isinstance(value, dict):
        return {k: typed(v, k) for k, v in value.items()}
    if isinstance(value, str) and key in DAYS:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, str) and key in AMOUNTS and value != "unlimited":
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


TYPED = [typed(r) for r in REQUESTS]


def marshmallow(payload):
    try:
        return _SCHEMA.load(payload)
    except ValidationError:
        return None


def paths(value, prefix=()):
    """Every place in a request a value sits, nested ones included."""
    yield prefix
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from paths(sub, prefix + (key,))


def test_the_quick_path_takes_most_fixture_requests_and_agrees():
    accepted = [r for r in REQUESTS if accept_well_formed(r) is not None]
    assert len(accepted) > len(REQUESTS) * 0.8
    for request in accepted:
        assert accept_well_formed(request) == marshmallow(request)


def test_the_quick_path_is_generated_for_every_field_of_the_schema():
    assert accept_well_formed.uncovered == []


def test_typed_values_take_the_quick_path_too():
    """A ``date`` where a day is due and a ``Decimal`` where an amount is due
    are as plainly well formed as their text: same result, no marshmallow."""
    assert any(t != r for t, r in zip(TYPED, REQUESTS))
    for text, request in zip(REQUESTS, TYPED):
        quick = accept_well_formed(request)
        assert (quick is not None) == (accept_well_formed(text) is not None)
        if quick is not None:
            assert quick == marshmallow(request) == accept_well_formed(text)


def test_a_ledger_shaped_request_takes_the_quick_path():
    """What storage/facts.py builds for a usage record: dates, Decimals and ints, never text."""
    request = {
        "plan": "seat_based", "channel": "sales_assisted", "as_of": date(2026, 4, 10),
        "organization": {"id": "org-1", "term_start": date(2026, 1, 1), "hipaa_seats": 0, "extra_usage": True,
                         "credit_balance": Decimal("0"), "spend": Decimal("12.500000001"), "limit": Decimal("100"),
                         "notified_pct": 50},
        "member": {"id": "m-1", "role": "member", "seat_type": "premium", "spend": Decimal("1.25"),
                   "included_used": Decimal("99.999999"), "limit": "unlimited", "notified_pct": 0},
        "event": {"type": "usage", "product": "chat", "model": "claude-haiku-4-5",
                  "tokens": {"input": 1200, "output": 300, "cache_read": 40_000}},
    }
    quick = accept_well_formed(request)
    assert quick is not None
    assert quick == marshmallow(request)
    assert quick["as_of"] == date(2026, 4, 10) and quick["organization"]["spend"] == Decimal("12.500000001")
    assert quick["event"]["tokens"] == {"input": 1200, "output": 300, "cache_read": 40_000, "cache_write_5m": 0,
                                        "cache_write_1h": 0}


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["2026-04-10", "2026-4-10", "20260410", "9999-12-31", "1999-12-31", "unlimited", "0.01",
                     "0.001", "1e3", " 5", "5.0000000001", "member", "owner", "usage", "chat", "standard",
                     "from", "seat_type", "organization"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    # typed values, as Python callers send them
    st.dates(), st.datetimes(), st.sampled_from([date(2026, 4, 10), date(1999, 12, 31), date(3000, 1, 1),
                                                 datetime(2026, 4, 10), Decimal("12.50"), Decimal("-0"),
                                                 Decimal("1E+3"), Decimal("0.0000000001"), Decimal("1000000001")]),
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(REQUESTS))), st.booleans(), st.data(), VALUES, st.booleans())
def test_wherever_the_quick_path_accepts_it_agrees_with_marshmallow(index, as_typed, data, value, delete):
    request = copy.deepcopy((TYPED if as_typed else REQUESTS)[index])
    path = data.draw(st.sampled_from([p for p in paths(request) if p]))
    *parents, key = path
    target = request
    for part in parents:
        target = target[part]
    if delete:
        del target[key]
    else:
        target[key] = value
    quick = accept_well_formed(request)
    if quick is not None:
        assert quick == marshmallow(request)


@pytest.mark.parametrize("spoil", [
    lambda r: r["event"].update(count=True) if "count" in r["event"] else r.update(as_of=True),
    lambda r: r.update(as_of="2026-04-10T00:00:00"),
    lambda r: r["organization"].update(spend=Decimal("0.0000000001")),
    lambda r: r["organization"].update(spend=1.5),
])
def test_what_the_quick_path_is_unsure_of_goes_to_marshmallow(spoil):
    request = copy.deepcopy(next(r for r in REQUESTS if r["event"]["type"] == "usage"))
    spoil(request)
    assert accept_well_formed(request) is None
