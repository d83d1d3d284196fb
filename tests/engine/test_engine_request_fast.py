"""The quick validation path never disagrees with marshmallow.

Wherever engine.request_fast accepts a request, the result must be exactly
what RequestSchema.load gives; wherever marshmallow refuses, the quick path
must not accept. Checked on every fixture request and on random mutations.
"""
from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from tariff.engine.evaluate.request import _SCHEMA
from tariff.engine.evaluate.quick import accept_well_formed
from tariff.engine.tools.verify import fixture_files, load_cases

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = [case.request for path in fixture_files([ROOT / "fixtures"]) for case in load_cases(path)]


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


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["2026-04-10", "2026-4-10", "20260410", "9999-12-31", "1999-12-31", "unlimited", "0.01",
                     "0.001", "1e3", " 5", "5.0000000001", "member", "owner", "usage", "chat", "standard",
                     "from", "seat_type", "organization"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(REQUESTS))), st.data(), VALUES, st.booleans())
def test_wherever_the_quick_path_accepts_it_agrees_with_marshmallow(index, data, value, delete):
    request = copy.deepcopy(REQUESTS[index])
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
