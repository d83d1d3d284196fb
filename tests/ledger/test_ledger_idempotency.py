"""Idempotency-Key on every request that moves money or state (issue 9): a
retry returns the first answer with `Idempotent-Replayed: true` and has no
second effect; the same key with another body, or on another operation of
the same organization, is a 409 `idempotency_key_reused`. On SQLite and
PostgreSQL (the ``backend`` parametrization of conftest.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from hostile_http import TODAY, org_body
from tariff.engine import TOKEN_CLASSES
from tariff.engine.periods import add_months, period_start
from tariff.storage import config, idempotency, ingest


def twice(client, method, url, body, key, other_body=None, status=200):
    """Send ``body`` twice with ``key``: the second is the first answer, replayed;
    then ``other_body`` with the same key: a 409. Returns the first answer."""
    send = getattr(client, method)
    first = send(url, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == status, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    again = send(url, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == status and again.headers["Idempotent-Replayed"] == "true"
    # credits and usage also say so in the body (``replayed``), as they always have
    assert again.get_json() == first.get_json() | ({"replayed": True} if "replayed" in first.get_json() else {})
    if other_body is not None:
        reused = send(url, json=other_body, headers={"Idempotency-Key": key})
        assert reused.status_code == 409 and reused.get_json()["code"] == "idempotency_key_reused"
    return first.get_json()


def test_every_operation_that_moves_money_or_state_happens_once_per_key(client):
    acme = "/v1/organizations/acme"
    twice(client, "post", "/v1/organizations", org_body(), "create-1", org_body(name="Other"), status=201)
    assert client.get(acme).get_json()["name"] == "Acme"

    twice(client, "post", f"{acme}/members", {"actor": "pat", "id": "ana"}, "mem-1",
          {"actor": "pat", "id": "ben"}, status=201)
    assert [m["id"] for m in client.get(f"{acme}/members").get_json()["items"]] == ["ana", "pat"]

    added = twice(client, "post", f"{acme}/seats/add", {"actor": "pat", "count": 2}, "seats-1",
                  {"actor": "pat", "count": 3}, status=201)
    assert added["organization"]["seats"] == {"enterprise": 6}
    assert client.get(acme).get_json()["seats"] == {"enterprise": 6}
    changes = client.get(f"{acme}/seats/changes").get_json()["items"]
    assert [c["kind"] for c in changes] == ["initial", "add"] and changes[-1]["charged"] == added[
        "seat_change"]["charged"]

    # the same key on another operation of the organization, with another body: a conflict
    other = client.post(f"{acme}/seats/remove", json={"actor": "pat", "count": 1, "at_renewal": True},
                        headers={"Idempotency-Key": "seats-1"})
    assert other.status_code == 409 and other.get_json()["code"] == "idempotency_key_reused"

    scheduled = twice(client, "post", f"{acme}/seats/remove", {"actor": "pat", "count": 1, "at_renewal": True},
                      "remove-1", {"actor": "pat", "count": 2, "at_renewal": True})
    assert [c["kind"] for c in client.get(f"{acme}/seats/changes").get_json()["items"]] == ["initial", "add", "remove"]
    change_id = scheduled["seat_change"]["id"]
    twice(client, "post", f"{acme}/seats/changes/{change_id}/cancel", {"actor": "pat"}, "cancel-1",
          {"actor": "ana"})

    twice(client, "patch", f"{acme}/members/ana", {"actor": "pat", "role": "admin"}, "role-1",
          {"actor": "pat", "role": "owner"})
    assert client.get(f"{acme}/members/ana").get_json()["role"] == "admin"

    twice(client, "put", f"{acme}/limits", {"actor": "pat", "level": "organization", "limit": "100"}, "limit-1",
          {"actor": "pat", "level": "organization", "limit": "200"})
    assert [l["limit"] for l in client.get(f"{acme}/limits").get_json()] == ["100"]

    bought = twice(client, "post", f"{acme}/credits/purchases", {"actor": "pat", "amount": "25"}, "buy-1",
                   {"actor": "pat", "amount": "26"}, status=201)
    assert bought["credit_balance"] == "25"
    credits = client.get(f"{acme}/credits").get_json()
    assert credits["credit_balance"] == "25" and len(credits["entries"]) == 1

    twice(client, "patch", acme, {"actor": "pat", "name": "Acme Inc"}, "rename-1", {"actor": "pat", "name": "X"})
    assert client.get(acme).get_json()["name"] == "Acme Inc"

    run = twice(client, "post", f"{acme}/billing-run", {"date": TODAY.isoformat()}, "run-1",
                {"date": (TODAY - timedelta(days=1)).isoformat()})
    assert run["closed_through"] == add_months(period_start(TODAY), -1).isoformat()
    # nothing above charged twice: one seat charge per change, the seats as bought
    assert client.get(acme).get_json()["seats"] == {"enterprise": 6}


def test_seat_type_changes_and_hipaa_seats_once_per_key(client):
    body = org_body(plan="legacy_chat_code", channel="sales_assisted", seats={"chat": 2, "chat_code": 1},
                    primary_owner={"id": "pat", "seat_type": "chat_code"})
    assert client.post("/v1/organizations", json=body).status_code == 201
    acme = "/v1/organizations/acme"
    client.post(f"{acme}/members", json={"actor": "pat", "id": "ana", "seat_type": "chat"})
    changed = twice(client, "patch", f"{acme}/members/ana", {"actor": "pat", "seat_type": "chat_code"}, "retype-1",
                    {"actor": "pat", "seat_type": "chat"})
    assert changed["seat_change"]["charges"][0]["kind"] == "seat_upgrade"
    assert client.get(acme).get_json()["seats"] == {"chat": 1, "chat_code": 2}
    hipaa = twice(client, "post", f"{acme}/seats/add", {"actor": "pat", "count": 1, "seat_type": "chat",
                                                        "hipaa": True}, "hipaa-1",
                  {"actor": "pat", "count": 2, "seat_type": "chat", "hipaa": True}, status=201)
    assert {c["kind"] for c in hipaa["seat_change"]["charges"]} == {"seat_fee", "hipaa_addon"}
    org = client.get(acme).get_json()
    assert org["seats"] == {"chat": 2, "chat_code": 2} and org["hipaa_seats"] == 1
    kinds = [c["kind"] for c in client.get(f"{acme}/seats/changes").get_json()["items"]]
    assert kinds.count("type_change") == 1 and kinds.count("add") == 1


def test_a_key_is_per_organization(client):
    for org_id in ("acme", "globex"):
        assert client.post("/v1/organizations", json=org_body(id=org_id)).status_code == 201
    for org_id in ("acme", "globex"):
        out = client.post(f"/v1/organizations/{org_id}/seats/add", json={"actor": "pat", "count": 1},
                          headers={"Idempotency-Key": "same"})
        assert out.status_code == 201 and "Idempotent-Replayed" not in out.headers
        assert client.get(f"/v1/organizations/{org_id}").get_json()["seats"] == {"enterprise": 5}


def test_the_header_is_documented_on_every_such_operation(client):
    spec = client.get("/openapi.json").get_json()
    operations = [("/v1/organizations", "post"), ("/v1/organizations/{org_id}", "patch"),
                  ("/v1/organizations/{org_id}/members", "post"),
                  ("/v1/organizations/{org_id}/members/{member_id}", "patch"),
                  ("/v1/organizations/{org_id}/seats/add", "post"), ("/v1/organizations/{org_id}/seats/remove", "post"),
                  ("/v1/organizations/{org_id}/seats/changes/{change_id}/cancel", "post"),
                  ("/v1/organizations/{org_id}/limits", "put"),
                  ("/v1/organizations/{org_id}/credits/purchases", "post"),
                  ("/v1/organizations/{org_id}/billing-run", "post"),
                  ("/v1/organizations/{org_id}/usage", "post")]
    for path, method in operations:
        operation = spec["paths"][path][method]
        assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"], path
        assert any("Idempotent-Replayed" in r.get("headers", {})
                   for status, r in operation["responses"].items() if status.startswith("2")), path


def test_kept_answers_are_pruned_after_the_retention_window(ledger, clock, new_org, monkeypatch):
    new_org()
    ledger.add_seats("acme", actor="pat", count=1, idempotency_key="k1")
    assert idempotency.is_replay(ledger.add_seats("acme", actor="pat", count=1, idempotency_key="k1"))
    clock.when = clock.when + timedelta(days=34)
    assert ledger.prune_idempotency_keys() == 0
    monkeypatch.setenv(config.RETENTION_ENV, "30")
    assert config.retention_days() == 30
    assert ledger.prune_idempotency_keys() == 1
    # the key is forgotten: a new request with it is new
    assert not idempotency.is_replay(ledger.add_seats("acme", actor="pat", count=1, idempotency_key="k1"))
    monkeypatch.delenv(config.RETENTION_ENV)
    assert config.retention_days() == config.DEFAULT_RETENTION_DAYS
    clock.when = clock.when + timedelta(days=36)
    assert ledger.prune_idempotency_keys() == 1


def test_concurrent_first_uses_of_a_key_with_no_organization_to_lock_replay(ledger):
    """Creating an organization locks no row first: two first uses of one key
    at once queue on the key (an advisory lock on PostgreSQL), so the second
    replays the first instead of failing on the unique key or the id."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date
    from threading import Barrier

    start = Barrier(6)

    def create(_):
        start.wait()
        return ledger.create_organization(id="acme", name="Acme", plan="enterprise_self_serve",
                                          term_start=date(2026, 1, 1), seats={"enterprise": 2},
                                          primary_owner={"id": "pat"}, idempotency_key="create-acme")

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(create, range(6)))
    assert [idempotency.is_replay(a) for a in answers].count(False) == 1
    assert all(a == answers[0] for a in answers)
    assert len(ledger.list_seat_changes("acme")["items"]) == 1


@settings(max_examples=300, deadline=None)
@given(member=st.text(min_size=1), product=st.text(min_size=1), model=st.text(min_size=1),
       counts=st.fixed_dictionaries({c: st.integers(0, 2 ** 63 - 1) for c in TOKEN_CLASSES}),
       when=st.one_of(st.none(), st.datetimes(timezones=st.just(timezone.utc))))
def test_a_usage_records_digest_is_the_one_earlier_versions_kept(member, product, model, counts, when):
    """ingest._digest writes the canonical text out for its one shape: it must stay the text
    idempotency.fingerprint (json.dumps, keys sorted) makes, or a retry of a record kept
    before would read as a key reused for another body. Any text (escapes, lone
    surrogates, any script), any count."""
    u = ingest.Usage("key", member, product, model, dict(counts), when)
    at = when or datetime(2026, 4, 10, tzinfo=timezone.utc)
    assert ingest._digest(u, counts, at) == idempotency.fingerprint(
        member=member, product=product, model=model, tokens=counts, occurred_at=at.isoformat() if when else None)
