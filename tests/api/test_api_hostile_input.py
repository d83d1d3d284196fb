"""Issue 9, item 5: no 500 for any input, on the decision endpoints. The
checks live once in engine/inputs.py (JSON, text, days, int64) and
engine/schema.py (amounts); a property test feeds requests with hostile
values planted anywhere and requires a 2xx or a 4xx problem, never a 500."""
from __future__ import annotations

import json

import pytest
from hostile_http import PROBLEM, problem, raw
from hypothesis import HealthCheck, given, settings, strategies as st

AT_LIMITS = {  # as tests/api/conftest.py's request_body("at_limits")
    "plan": "enterprise_self_serve",
    "as_of": "2026-04-10",
    "organization": {"term_start": "2026-01-01", "credit_balance": "250.00", "spend": "1000.00", "limit": "1000"},
    "member": {"id": "m-ana", "role": "member", "spend": "50.00", "limit": "50"},
    "event": {"type": "usage_precheck", "product": "chat"},
}


def with_value(path: str, value):
    body = json.loads(json.dumps(AT_LIMITS))
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    target[last] = value
    return body


def test_duplicate_keys(client):
    text = json.dumps(AT_LIMITS)[:-1] + ', "plan": "team"}'
    problem(raw(client, "/v1/decisions", text), 400, "plan")


@pytest.mark.parametrize("path", ["member.id", "organization.id", "event.product"])
@pytest.mark.parametrize("bad", ["a\x00", "a\ud800"])
def test_nul_and_surrogates(client, path, bad):
    problem(raw(client, "/v1/decisions", json.dumps(with_value(path, bad))), 400, path)


@pytest.mark.parametrize("value", ["1E+999999999", "1E-999999999", "\u0661\u0660", " 10", "10 "])
def test_amount_text_and_exponents(client, value):
    problem(raw(client, "/v1/decisions", json.dumps(with_value("organization.spend", value))), 422,
            "organization.spend")


def test_exponent_as_a_json_number(client):
    text = json.dumps(with_value("organization.spend", "X")).replace('"X"', "1E+999999999")
    problem(raw(client, "/v1/decisions", text), 400, "organization.spend")


@pytest.mark.parametrize("path, value", [("as_of", "9999-12-31"), ("as_of", "0001-01-01"),
                                         ("organization.term_start", "9999-12-31")])
def test_days_out_of_range(client, path, value):
    problem(raw(client, "/v1/decisions", json.dumps(with_value(path, value))), 422, path)


def test_a_null_item_fails_only_itself(client):
    response = client.post("/v1/decisions/batch", json={"requests": [None, AT_LIMITS]})
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first["status"] == 422 and first["error"]["code"] == "invalid_request"
    assert second["status"] == 200


def test_deep_nesting_and_huge_integers(client):
    problem(raw(client, "/v1/decisions", "[" * 100_000 + "]" * 100_000), 400, "body")
    problem(raw(client, "/v1/decisions", "1" * 100_000), 400, "body")
    problem(raw(client, "/v1/decisions", json.dumps(with_value("member.spend", "X")).replace('"X"', "1" * 70)),
            400, "member.spend")


HOSTILE = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "\ud800", "1E+999999999", "1E-999999999", "\u0661\u0660", " 1 ",
                     "9999-12-31", "0000-01-01", "0001-01-01T00:00:00Z", "-1", "9223372036854775808"]),
    st.integers(min_value=-(10 ** 40), max_value=10 ** 40), st.none(), st.booleans(),
    st.text(max_size=5), st.lists(st.none(), max_size=2))
PATHS = st.sampled_from(["plan", "as_of", "organization.term_start", "organization.spend", "organization.limit",
                         "organization.credit_balance", "organization.id", "member.id", "member.role",
                         "member.spend", "member.limit", "event.type", "event.product"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(path=PATHS, value=HOSTILE)
def test_hostile_values_anywhere_never_give_a_500(app, path, value):
    client = app.test_client()
    text = json.dumps(with_value(path, value), ensure_ascii=True)
    for url, body in (("/v1/decisions", text), ("/v1/decisions/batch", f'{{"requests": [{text}, null]}}')):
        response = raw(client, url, text if url.endswith("decisions") else body)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            assert response.mimetype == PROBLEM


@pytest.mark.parametrize("price", ["1E+999999999", '"1E+999999999"', "1E-999999999"])
def test_a_policy_with_an_exponent_out_of_range_is_refused_on_reload(make_app, policy_copy, price):
    app = make_app(POLICIES_DIR=str(policy_copy))  # no key: local mode, the client on loopback is admin
    card = policy_copy / "rate_card.yaml"
    card.write_text(card.read_text().replace("cache_write_5m: 3.75", f"cache_write_5m: {price}", 1))
    response = app.test_client().post("/v1/policies/reload")
    assert response.status_code == 409, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "policy_invalid"
    assert any("cache_write_5m" in str(finding) for finding in body["findings"])
