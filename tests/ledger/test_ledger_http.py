"""The accounts endpoints over HTTP (Flask test client): shapes, status codes,
problem+json errors, idempotency headers, localized decisions."""
from __future__ import annotations

from pathlib import Path

import pytest

from hostile_http import PROBLEM, TERM, TODAY, org_body
from tariff.engine.periods import add_months, period_start

REPO_ROOT = Path(__file__).resolve().parents[2]  # not from conftest: its module name is shared


@pytest.fixture
def acme(client):
    assert client.post("/v1/organizations", json=org_body()).status_code == 201
    for member in ("ana", "ben"):
        assert client.post("/v1/organizations/acme/members", json={"actor": "pat", "id": member}).status_code == 201
    return "/v1/organizations/acme"


def usage(client, key, member="ana", tokens=None, occurred_at=None, **headers):
    body = {"member": member, "product": "chat", "model": "claude-opus-4-6", "tokens": tokens or {"input": 1_000_000}}
    if occurred_at:
        body["occurred_at"] = occurred_at
    return client.post("/v1/organizations/acme/usage", headers={"Idempotency-Key": key, **headers}, json=body)


def test_create_and_read_an_organization(client):
    created = client.post("/v1/organizations", json=org_body())
    assert created.status_code == 201 and created.mimetype == "application/json"
    body = created.get_json()
    assert body["primary_owner"]["id"] == "pat" and body["seats"] == {"enterprise": 4}
    assert body["credit_balance"] == "0"
    got = client.get("/v1/organizations/acme")
    assert got.status_code == 200
    assert got.get_json() == {k: v for k, v in body.items() if k != "primary_owner"}


def test_errors_are_problems(client, acme):
    again = client.post("/v1/organizations", json=org_body())
    assert again.status_code == 409 and again.mimetype == PROBLEM
    assert again.get_json()["code"] == "organization_exists"
    missing = client.get("/v1/organizations/nope")
    assert missing.status_code == 404 and missing.get_json()["code"] == "organization_not_found"
    bad = client.post("/v1/organizations", json=org_body(id="x", seats={"enterprise": "many"}, colour="red"))
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert set(bad.get_json()["errors"]) == {"seats.enterprise.value", "colour"}
    unknown_plan = client.post("/v1/organizations", json=org_body(id="y", plan="platinum"))
    assert unknown_plan.status_code == 422 and unknown_plan.get_json()["code"] == "unknown_plan"
    assert unknown_plan.get_json()["errors"] == {"plan": [unknown_plan.get_json()["errors"]["plan"][0]]}


def test_members(client, acme):
    assert [m["id"] for m in client.get(f"{acme}/members").get_json()["items"]] == ["ana", "ben", "pat"]
    assert client.get(f"{acme}/members/ana").get_json()["role"] == "member"
    full = client.post(f"{acme}/members", json={"actor": "pat", "id": "cy"})
    ok = client.post(f"{acme}/members", json={"actor": "pat", "id": "dee"})
    assert full.status_code == 201 and ok.status_code == 409 and ok.get_json()["code"] == "no_free_seat"
    changed = client.patch(f"{acme}/members/ana", json={"actor": "pat", "role": "admin"})
    assert changed.status_code == 200 and changed.get_json()["role"] == "admin"
    forbidden = client.patch(f"{acme}/members/ben", json={"actor": "ana", "role": "owner"})
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "role_not_allowed"


def test_seat_type_change_over_http(client):
    body = org_body(plan="legacy_chat_code", channel="sales_assisted", seats={"chat": 2, "chat_code": 1},
                    primary_owner={"id": "pat", "seat_type": "chat_code"})
    assert client.post("/v1/organizations", json=body).status_code == 201
    client.post("/v1/organizations/acme/members", json={"actor": "pat", "id": "ana", "seat_type": "chat"})
    out = client.patch("/v1/organizations/acme/members/ana", json={"actor": "pat", "seat_type": "chat_code"})
    assert out.status_code == 200
    change = out.get_json()["seat_change"]
    assert change["kind"] == "type_change" and change["charges"][0]["kind"] == "seat_upgrade"
    assert client.get("/v1/organizations/acme").get_json()["seats"] == {"chat": 1, "chat_code": 2}


def test_seats_add_and_refused_removal_with_the_decision(client, acme):
    added = client.post(f"{acme}/seats/add", json={"actor": "pat", "count": 2})
    assert added.status_code == 201
    charge = added.get_json()["seat_change"]["charges"][0]
    assert charge["months"] == 10 and charge["amount"] == "1200"
    refused = client.post(f"{acme}/seats/remove", json={"actor": "pat", "count": 1},
                          headers={"Accept-Language": "fr"})
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    problem = refused.get_json()
    assert problem["code"] == "seat_removal_mid_term"
    assert problem["decision"]["reasons"][0]["cites"] == ["S4"]
    assert problem["decision"]["resume"][0]["action"] == "at_renewal"
    assert problem["decision"]["reasons"][0]["message"]  # for the end user, in French
    scheduled = client.post(f"{acme}/seats/remove", json={"actor": "pat", "count": 1, "at_renewal": True})
    assert scheduled.status_code == 200 and scheduled.get_json()["seat_change"]["status"] == "scheduled"
    changes = client.get(f"{acme}/seats/changes").get_json()["items"]
    assert [c["kind"] for c in changes] == ["initial", "add", "remove"]
    cancel = client.post(f"{acme}/seats/changes/{changes[-1]['id']}/cancel", json={"actor": "pat"})
    assert cancel.status_code == 200 and cancel.get_json()["seat_change"]["status"] == "cancelled"


def test_limits_over_http(client, acme):
    refused = client.put(f"{acme}/limits", json={"actor": "ana", "level": "organization", "limit": "100"})
    assert refused.status_code == 403 and refused.get_json()["decision"]["reasons"][0]["code"] == "role_not_allowed"
    ok = client.put(f"{acme}/limits", json={"actor": "pat", "level": "individual", "subject": "ana", "limit": "5"})
    assert ok.status_code == 200
    assert (ok.get_json()["limit"], ok.get_json()["decision"]["outcome"]) == ("5", "allow")
    unlimited = client.put(f"{acme}/limits", json={"actor": "pat", "level": "organization", "limit": "unlimited"})
    assert unlimited.get_json()["limit"] == "unlimited"
    floats = client.put(f"{acme}/limits", data='{"actor": "pat", "level": "organization", "limit": 0.1}',
                        content_type="application/json")
    assert floats.status_code == 200  # a JSON number is read exactly, never as a binary float
    assert floats.get_json()["limit"] == "0.1"
    assert [l["level"] for l in client.get(f"{acme}/limits").get_json()] == ["individual", "organization"]


def test_credits_purchase_is_idempotent_with_a_key(client, acme):
    headers = {"Idempotency-Key": "buy-1"}
    first = client.post(f"{acme}/credits/purchases", json={"actor": "pat", "amount": "25.50"}, headers=headers)
    again = client.post(f"{acme}/credits/purchases", json={"actor": "pat", "amount": "25.50"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() | {"replayed": True}
    credits = client.get(f"{acme}/credits").get_json()
    assert credits["credit_balance"] == "25.5" and len(credits["entries"]) == 1
    member = client.post(f"{acme}/credits/purchases", json={"actor": "ana", "amount": "5"})
    assert member.status_code == 403


def test_usage_record_replay_block_and_summary(client, acme):
    client.post(f"{acme}/credits/purchases", json={"actor": "pat", "amount": "8"})
    first = usage(client, "u1")
    assert first.status_code == 201
    body = first.get_json()
    assert body["recorded"] is True and body["usage"]["billed"] == "5" and body["credit_balance"] == "3"
    replay = usage(client, "u1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == body | {"replayed": True}
    conflict = usage(client, "u1", member="ben")
    assert conflict.status_code == 409 and conflict.get_json()["code"] == "idempotency_key_reused"
    assert usage(client, "u2").get_json()["credit_balance"] == "-2"
    blocked = usage(client, "u3", **{"Accept-Language": "de"})
    assert blocked.status_code == 200 and blocked.headers["Content-Language"] == "de"
    out = blocked.get_json()
    assert out["recorded"] is False and out["outcome"] == "block" and out["usage"] is None
    assert out["decision"]["reasons"][0]["code"] == "credits_exhausted" and out["decision"]["reasons"][0]["message"]
    authorize = client.post(f"{acme}/usage/authorize", json={"member": "ben", "product": "chat"})
    assert authorize.status_code == 200 and authorize.get_json()["outcome"] == "block"
    summary = client.get(f"{acme}/usage/summary").get_json()
    assert summary["credit_balance"] == "-2" and summary["spend"] == "10"
    assert {m["id"]: m["spend"] for m in summary["members"]} == {"ana": "10", "ben": "0", "pat": "0"}
    assert [u["idempotency_key"] for u in client.get(f"{acme}/usage?member=ana").get_json()["items"]] == ["u1", "u2"]


def test_a_recorded_usage_is_sent_as_the_very_json_kept_with_it(client, acme, migrated_url):
    """Encoded once (issue 10): the 201's body is the answer kept for replays, its id in it,
    in the language it was given in; the replay reads it back."""
    import json

    from sqlalchemy import create_engine, text
    client.post(f"{acme}/credits/purchases", json={"actor": "pat", "amount": "8"})
    first = usage(client, "once", **{"Accept-Language": "fr"})
    assert first.status_code == 201 and first.headers["Content-Language"] == "fr"
    engine = create_engine(migrated_url)
    try:
        with engine.connect() as conn:
            pk, kept = conn.execute(text("SELECT pk, response FROM usage_records WHERE idempotency_key = 'once'")).one()
    finally:
        engine.dispose()
    assert kept == '{"answer":' + first.get_data(as_text=True) + ',"language":"fr"}'
    assert first.get_json()["usage"]["id"] == pk and json.loads(kept)["answer"]["replayed"] is False
    replay = usage(client, "once")
    assert replay.get_json() == first.get_json() | {"replayed": True} and replay.headers["Content-Language"] == "fr"


def test_usage_needs_its_key_and_valid_tokens(client, acme):
    no_key = client.post("/v1/organizations/acme/usage", json={"member": "ana", "product": "chat",
                                                               "model": "claude-opus-4-6", "tokens": {"input": 1}})
    assert no_key.status_code == 422 and "headers.Idempotency-Key" in no_key.get_json()["errors"]
    bad = usage(client, "k", tokens={"input": -1})
    assert bad.status_code == 422 and "tokens.input" in bad.get_json()["errors"]
    unknown = client.post("/v1/organizations/acme/usage", headers={"Idempotency-Key": "m"},
                          json={"member": "ana", "product": "chat", "model": "gpt-9", "tokens": {"input": 1}})
    assert unknown.status_code == 422 and unknown.get_json()["code"] == "unknown_model"
    assert list(unknown.get_json()["errors"]) == ["event.model"]


def _added_on(client, member: str, day) -> None:
    """Back-date a member's creation (the API adds members now)."""
    from datetime import datetime, time, timezone
    from sqlalchemy import update
    from tariff.storage.models import Member
    with client.application.extensions["tariff.ledger"].db.write() as session:
        session.execute(update(Member).where(Member.id == member)
                        .values(created_at=datetime.combine(day, time(), timezone.utc)))


def test_invoices_notifications_and_the_billing_run(client):
    assert client.post("/v1/organizations", json=org_body(plan="enterprise_sales_assisted")).status_code == 201
    client.post("/v1/organizations/acme/members", json={"actor": "pat", "id": "ana"})
    client.put("/v1/organizations/acme/limits", json={"actor": "pat", "level": "organization", "limit": "9"})
    _added_on(client, "ana", TERM)  # usage dated before a member existed is refused: ana joined with the term
    last_month = add_months(period_start(TODAY), -1)
    when = f"{last_month.isoformat()}T10:00:00Z"
    usage(client, "a", occurred_at=when)
    usage(client, "b", occurred_at=when)
    usage(client, "c")  # this month
    month, previous = TODAY.strftime("%Y-%m"), last_month.strftime("%Y-%m")
    draft = client.get(f"/v1/organizations/acme/invoices/{previous}").get_json()
    assert draft["status"] == "draft" and draft["total"] == "10.00"
    # pat joined after that month and used nothing in it: no line
    assert [(l["member"], l["amount"]) for l in draft["lines"]] == [("ana", "10.00")]
    notes = client.get(f"/v1/organizations/acme/notifications?period={previous}").get_json()["items"]
    assert [n["threshold_pct"] for n in notes] == [50, 80, 100]
    future = client.post("/v1/organizations/acme/billing-run", json={"date": add_months(TODAY, 1).isoformat()})
    assert future.status_code == 422 and list(future.get_json()["errors"]) == ["date"]
    run = client.post("/v1/organizations/acme/billing-run", json={"date": TODAY.isoformat()})
    assert run.status_code == 200
    assert run.get_json()["closed_through"] == last_month.isoformat()
    issued = client.get(f"/v1/organizations/acme/invoices/{previous}").get_json()
    assert issued["status"] == "issued" and issued["total"] == "10.00"
    invoices = client.get("/v1/organizations/acme/invoices").get_json()["items"]
    assert invoices[-1]["number"] == f"acme-{previous}"
    assert client.get(f"/v1/organizations/acme/invoices/{month}").get_json()["total"] == "5.00"  # the open month
    late = usage(client, "late", occurred_at=when)
    assert late.status_code == 409 and late.get_json()["code"] == "period_closed"
    bad = client.get("/v1/organizations/acme/invoices/2026-13")
    assert bad.status_code == 422
    everyone = client.post("/v1/billing-runs", json={"date": TODAY.isoformat()})
    assert everyone.status_code == 200 and everyone.get_json()["organizations"] == []


def test_keys_guard_the_ledger(migrated_url, tmp_path):
    from tariff.api import create_app
    from tariff.storage import Database, keys
    app = create_app({"POLICIES_DIR": str(REPO_ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                      "STATE_DIR": str(tmp_path / "s"), "DATABASE_URL": migrated_url})
    client = app.test_client()
    assert client.get("/v1/organizations/acme").status_code == 404  # no key yet: local mode, from loopback
    database = Database(migrated_url)
    _, secret = keys.create(database, "service")
    database.dispose()
    assert client.get("/v1/organizations/acme").status_code == 401  # a key exists: every caller needs one
    assert client.get("/v1/organizations/acme", headers={"Authorization": f"Bearer {secret}"}).status_code == 404


def test_every_ledger_operation_is_documented(client):
    spec = client.get("/openapi.json").get_json()
    record = spec["paths"]["/v1/organizations/{org_id}/usage"]["post"]
    assert {"201", "200", "409", "422"} <= set(record["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"]
               for p in record["parameters"])
    refused = spec["paths"]["/v1/organizations/{org_id}/seats/remove"]["post"]["responses"]["409"]
    assert refused["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/RefusalProblem"}


def test_a_retry_gets_the_first_answer_as_it_was_given(client, acme):
    """The answer is rendered once (messages in the first request's language)
    and kept with the record: a retry in another language gets that answer,
    with its Content-Language, and nothing is charged again."""
    client.post(f"{acme}/credits/purchases", json={"actor": "pat", "amount": "20"})
    client.put(f"{acme}/limits", json={"actor": "pat", "level": "individual", "subject": "ana", "limit": "10"})
    first = usage(client, "n1", **{"Accept-Language": "de"})
    notes = first.get_json()["decision"]["notifications"]
    assert first.headers["Content-Language"] == "de" and [n["threshold_pct"] for n in notes] == [50]
    assert "50" in notes[0]["message"] and "Ausgaben" in notes[0]["message"]  # German
    again = usage(client, "n1", **{"Accept-Language": "fr"})
    assert again.status_code == 201 and again.headers["Content-Language"] == "de"
    assert again.get_json() == first.get_json() | {"replayed": True}
    assert client.get(f"{acme}/credits").get_json()["credit_balance"] == "15"
