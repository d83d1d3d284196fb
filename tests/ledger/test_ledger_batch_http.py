"""POST /v1/usage/batch over HTTP (issue 10): results in order, each record's
problem naming records.<index>.<field>, a bad envelope a 4xx (never a 500),
and the service scope (a key bound to one organization records only there)."""
from __future__ import annotations


import pytest

TERM = "2026-01-01"


@pytest.fixture
def client(app):
    client = app.test_client()
    for org, plan in (("acme", "enterprise_self_serve"), ("beta", "enterprise_sales_assisted")):
        made = client.post("/v1/organizations", json={"id": org, "name": org.title(), "plan": plan,
                                                      "term_start": TERM, "seats": {"enterprise": 3},
                                                      "primary_owner": {"id": "pat"}},
                           headers={"Idempotency-Key": f"make-{org}"})
        assert made.status_code == 201, made.get_json()
        added = client.post(f"/v1/organizations/{org}/members", json={"actor": "pat", "id": "ana"},
                            headers={"Idempotency-Key": f"add-{org}"})
        assert added.status_code == 201, added.get_json()
    bought = client.post("/v1/organizations/acme/credits/purchases", json={"actor": "pat", "amount": "7"},
                         headers={"Idempotency-Key": "buy"})
    assert bought.status_code in (200, 201), bought.get_json()
    return client


def rec(key, org="acme", **extra):
    return {"organization": org, "idempotency_key": key, "member": "ana", "product": "chat",
            "model": "claude-opus-4-6", "tokens": {"input": 1_000_000}} | extra


def test_a_mixed_batch_over_http(client):
    body = {"records": [rec("a1"), rec("b1", org="beta"), rec("a1"), None, rec("a2"), rec("a3"),
                        rec("a4", tokens={"input": "many"}), rec("x", model="claude-imaginary-9"),
                        rec("y", org="nowhere")]}
    answer = client.post("/v1/usage/batch", json=body)
    assert answer.status_code == 200, answer.get_json()
    results = answer.get_json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "recorded"), (1, "recorded"), (2, "replayed"), (3, "error"), (4, "recorded"), (5, "blocked"),
        (6, "error"), (7, "error"), (8, "error")]
    assert results[0]["usage"]["cost"] == "5" and results[0]["credit_balance"] == "2"
    assert results[2]["replayed"] is True and results[2]["usage"] == results[0]["usage"]
    assert results[4]["credit_balance"] == "-3"
    assert results[5]["recorded"] is False
    assert [r["code"] for r in results[5]["decision"]["reasons"]] == ["credits_exhausted"]
    assert results[5]["decision"]["reasons"][0]["message"]  # rendered for people, as everywhere
    problems = {r["index"]: r["error"] for r in results if r["status"] == "error"}
    assert problems[3]["status"] == 422 and "records.3" in problems[3]["errors"]
    assert problems[6]["status"] == 422 and list(problems[6]["errors"]) == ["records.6.tokens.input"]
    assert problems[7]["code"] == "unknown_model" and list(problems[7]["errors"]) == ["records.7.model"]
    assert problems[8]["status"] == 404 and problems[8]["code"] == "organization_not_found"
    # the same key on the single endpoint: the first answer
    again = client.post("/v1/organizations/acme/usage", headers={"Idempotency-Key": "a1"},
                        json={k: v for k, v in rec("a1").items() if k not in ("organization", "idempotency_key")})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["usage"] == results[0]["usage"]
    # a recorded result is the answer kept with its record (sent as kept: encoded once),
    # with its index and status
    kept = client.post("/v1/organizations/acme/usage", headers={"Idempotency-Key": "a2"},
                       json={k: v for k, v in rec("a2").items() if k not in ("organization", "idempotency_key")})
    assert kept.headers["Idempotent-Replayed"] == "true"
    assert results[4] == {"index": 4, "status": "recorded", **kept.get_json(), "replayed": False}


@pytest.mark.parametrize("body, field", [
    ({}, "records"),
    ({"records": "lots"}, "records"),
    ({"records": [rec(str(i)) for i in range(1001)]}, "records"),
    ({"records": [], "extra": 1}, "extra"),
])
def test_a_bad_envelope_is_a_4xx_naming_the_field(client, body, field):
    answer = client.post("/v1/usage/batch", json=body)
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"]


def test_a_body_that_is_not_json_is_a_400(client):
    answer = client.post("/v1/usage/batch", data=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400


def test_the_batch_needs_the_service_scope_and_a_bound_key_records_only_its_organization(client, migrated_url):
    from tariff.storage import Database, keys
    database = Database(migrated_url)
    _, bound = keys.create(database, "service", organization="acme")
    _, reader = keys.create(database, "read", organization="acme")
    database.dispose()
    body = {"records": [rec("k1"), rec("k2", org="beta")]}
    assert client.post("/v1/usage/batch", json=body).status_code == 401
    assert client.post("/v1/usage/batch", json=body,
                       headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    answer = client.post("/v1/usage/batch", json=body, headers={"Authorization": f"Bearer {bound}"})
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == ["recorded", "error"]
    assert results[1]["error"]["code"] == "organization_not_found"
    assert list(results[1]["error"]["errors"]) == ["records.1.organization"]


def test_a_void_over_http(client):
    recorded = client.post("/v1/usage/batch", json={"records": [rec("v1")]}).get_json()["results"][0]
    usage_id = recorded["usage"]["id"]
    path = f"/v1/organizations/acme/usage/{usage_id}/void"
    assert client.post(path, json={"reason": "test"}).status_code == 422  # the Idempotency-Key is required
    first = client.post(path, json={"reason": "test"}, headers={"Idempotency-Key": "void-1"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["returned"] == "5" and first.get_json()["credit_balance"] == "7"
    again = client.post(path, json={"reason": "test"}, headers={"Idempotency-Key": "void-1"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    twice = client.post(path, json={}, headers={"Idempotency-Key": "void-2"})
    assert twice.status_code == 409 and twice.get_json()["code"] == "usage_already_voided"
    missing = client.post("/v1/organizations/acme/usage/999999/void", json={}, headers={"Idempotency-Key": "v3"})
    assert missing.status_code == 404 and missing.get_json()["code"] == "usage_not_found"


@pytest.mark.parametrize("item, path", [
    (rec("t1", tokens={"input": 10 ** 30}), "records.0.tokens.input"),
    (rec("t2", tokens={"input": 1.5}), "records.0.tokens.input"),
    (rec("t3", tokens={}), "records.0.tokens"),
    (rec("t4", occurred_at="9999-12-31T00:00:00Z"), "records.0.occurred_at"),
    (rec("t5", occurred_at="2026-13-01T00:00:00Z"), "records.0.occurred_at"),
    (rec("t6", occurred_at=12), "records.0.occurred_at"),
    (rec("t7", model="x" * 300), "records.0.model"),
    (rec("x" * 256), "records.0.idempotency_key"),
    (rec("t8", member=["ana"]), "records.0.member"),
    ([], "records.0"),
])
def test_a_hostile_record_is_its_own_4xx_naming_its_field(client, item, path):
    answer = client.post("/v1/usage/batch", json={"records": [item, rec("fine")]})
    assert answer.status_code == 200, answer.get_json()
    bad, fine = answer.get_json()["results"]
    assert bad["status"] == "error" and 400 <= bad["error"]["status"] < 500 and path in bad["error"]["errors"]
    assert fine["status"] == "recorded"


def test_a_nul_in_a_record_is_refused_at_the_edge_naming_it(client):
    answer = client.post("/v1/usage/batch", data=b'{"records": [{"organization": "acme", "idempotency_key": "k", '
                                                  b'"member": "a\\u0000", "product": "chat", "model": "m", '
                                                  b'"tokens": {"input": 1}}]}',
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and list(answer.get_json()["errors"]) == ["records.0.member"]
