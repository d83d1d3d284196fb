"""Issue 9, item 5: no 500 for any input. Hostile input to the accounts
endpoints is a 400/422 problem naming the field, on SQLite and PostgreSQL
(NUL is the one PostgreSQL cannot store). The checks live in one module,
engine/inputs.py; these tests hit them through the HTTP edge."""
from __future__ import annotations

import json
from datetime import date

import pytest
from hostile_http import problem, raw

from tariff.engine.periods import add_months, period_start

TERM = add_months(period_start(date.today()), -2)
ORG = {"id": "acme", "name": "Acme", "plan": "enterprise_self_serve", "term_start": TERM.isoformat(),
       "seats": {"enterprise": 4}, "primary_owner": {"id": "pat", "email": "pat@example.com"}}


@pytest.fixture
def client(app):
    client = app.test_client()
    assert client.post("/v1/organizations", json=ORG).status_code == 201
    assert client.post("/v1/organizations/acme/members", json={"actor": "pat", "id": "ana"}).status_code == 201
    return client


PURCHASES = "/v1/organizations/acme/credits/purchases"


def test_duplicate_keys_never_buy_the_second_amount(client):
    problem(raw(client, PURCHASES, '{"actor":"pat","amount":"1","amount":"1000"}'), 400, "amount")
    assert client.get("/v1/organizations/acme").get_json()["credit_balance"] == "0"


@pytest.mark.parametrize("bad", ["x\x00y", "x\ud800"])
@pytest.mark.parametrize("field", ["id", "name"])
def test_nul_and_lone_surrogates_are_refused_at_the_edge(client, field, bad):
    body = json.dumps({**ORG, "id": "other", field: bad})
    problem(raw(client, "/v1/organizations", body), 400, field)
    assert client.get("/v1/organizations/other").status_code == 404


def test_nul_in_the_path_and_query(client):
    problem(client.get("/v1/organizations/a%00b"), 400, "path.org_id")
    problem(client.get("/v1/organizations/acme/usage?member=a%00b"), 400, "query.member")


@pytest.mark.parametrize("amount", ['"1E+999999999"', "1E+999999999", '"1E-999999999"', '"\u0661\u0660"',
                                    '" 10 "', '"10 "', '"NaN"', '"Infinity"'])
def test_amounts_are_ascii_decimal_text_in_range(client, amount):
    response = raw(client, PURCHASES, f'{{"actor":"pat","amount":{amount}}}')
    assert response.status_code in (400, 422)
    problem(response, response.status_code, "amount")


@pytest.mark.parametrize("url, field", [
    ("/v1/organizations/acme/invoices/0000-01", "period"),
    ("/v1/organizations/acme/invoices/9999-12", "period"),
    ("/v1/organizations/acme/usage/summary?as_of=9999-12-31", "query.as_of"),
    ("/v1/organizations/acme/usage/summary?as_of=0001-01-01", "query.as_of"),
    ("/v1/organizations/acme/notifications?period=0000-01", "query.period"),
    ("/v1/organizations/acme/usage?period=9999-12", "query.period"),
])
def test_days_out_of_range_in_paths_and_queries(client, url, field):
    problem(client.get(url), 422, field)


def test_days_out_of_range_in_bodies(client):
    problem(client.post("/v1/organizations", json={**ORG, "id": "late", "term_start": "9999-12-31"}), 422,
            "term_start")
    problem(client.post("/v1/organizations/acme/billing-run", json={"date": "1999-12-31"}), 422, "date")
    usage = {"member": "ana", "product": "chat", "model": "claude-opus-4-6", "tokens": {"input": 1},
             "occurred_at": "0001-01-01T00:00:00Z"}
    problem(client.post("/v1/organizations/acme/usage", json=usage, headers={"Idempotency-Key": "k1"}), 422,
            "occurred_at")


@pytest.mark.parametrize("url, field", [
    ("/v1/organizations/acme/usage?cursor=WzkyMjMzNzIwMzY4NTQ3NzU4MDhd", "cursor"),  # [9223372036854775808]
    ("/v1/organizations/acme/credits?cursor=WyJhIl0", "cursor"),  # ["a"]: not a key of this list
    ("/v1/organizations/acme/members?cursor=not-ours", "cursor"),
])
def test_cursors_this_service_did_not_give(client, url, field):
    problem(client.get(url), 422, field)


def test_integers_past_int64_in_paths(client):
    url = "/v1/organizations/acme/seats/changes/9223372036854775808/cancel"
    problem(client.post(url, json={"actor": "pat"}), 422, "path.change_id")


def test_credits_past_the_engines_range_are_refused_naming_the_bound(client):
    assert raw(client, PURCHASES, '{"actor":"pat","amount":"999999999"}').status_code == 201
    body = problem(raw(client, PURCHASES, '{"actor":"pat","amount":"2"}'), 422, "amount")
    assert body["code"] == "credit_balance_too_large" and "1000000000" in body["message"]
    # the organization still works: the engine can decide for it
    assert raw(client, PURCHASES, '{"actor":"pat","amount":"1"}').status_code == 201
    assert client.get("/v1/organizations/acme/usage/summary").status_code == 200
