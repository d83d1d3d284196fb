"""Removing a member and handing over the primary owner's role (issue 13,
item 2): decided by the policy (policies/rules/members.yaml) on the actor's
role, audited, idempotent; a removed member's seat is free and their history
stays. On SQLite and PostgreSQL."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tariff.storage import Conflict, InvalidInput, Refused
from tariff.storage.history import recorded_requests

OPUS = "claude-opus-4-6"  # 5 USD per million input tokens


def audited(ledger, org="acme"):
    return [request["event"]["type"] for request in recorded_requests(ledger.db, org)]


def test_a_removed_member_frees_the_seat_and_keeps_the_history(ledger, new_org):
    new_org(seats={"enterprise": 3}, members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    ledger.record_usage("acme", idempotency_key="u1", member="ana", product="chat", model=OPUS,
                        tokens={"input": 1_000_000})
    with pytest.raises(Conflict) as full:
        ledger.add_member("acme", actor="pat", id="cy")
    assert full.value.code == "no_free_seat"

    removed = ledger.remove_member("acme", "ana", actor="pat")
    assert removed["id"] == "ana" and removed["removed_at"] is not None
    assert audited(ledger).count("member_removal") == 1
    assert [m["id"] for m in ledger.list_members("acme")["items"]] == ["ben", "pat"]
    assert [m["id"] for m in ledger.list_members("acme", removed=True)["items"]] == ["ana", "ben", "pat"]
    assert ledger.get_organization("acme")["seats_assigned"] == {"enterprise": 2}
    assert ledger.add_member("acme", actor="pat", id="cy")["id"] == "cy"  # the freed seat

    # the history stays: the usage and its charge are still the removed member's
    assert [u["member"] for u in ledger.list_usage("acme", member="ana")["items"]] == ["ana"]
    assert ledger.get_organization("acme")["credit_balance"] == "5"
    # and a removed member no longer uses, acts, or comes back under the same id
    with pytest.raises(Conflict) as gone:
        ledger.record_usage("acme", idempotency_key="u2", member="ana", product="chat", model=OPUS,
                            tokens={"input": 1})
    assert gone.value.code == "member_removed"
    with pytest.raises(Conflict) as asking:
        ledger.authorize_usage("acme", member="ana", product="chat")
    assert asking.value.code == "member_removed"
    with pytest.raises(InvalidInput) as acting:
        ledger.purchase_credits("acme", actor="ana", amount=Decimal("1"))
    assert acting.value.errors == {"actor": ["removed member 'ana' in organization 'acme'"]}
    with pytest.raises(Conflict) as again:
        ledger.add_member("acme", actor="pat", id="ana")
    assert again.value.code == "member_exists"


@pytest.mark.parametrize("actor, target, code, resume", [
    ("ben", "cy", "role_not_allowed", "ask_admin"),          # a member removes no one
    ("ada", "oli", "role_not_allowed", "ask_owner"),         # an admin does not remove owners
    ("oli", "pat", "primary_owner_is_transferred", "ask_primary_owner"),
])
def test_who_may_remove_whom_is_the_policys(ledger, new_org, actor, target, code, resume):
    new_org(seats={"enterprise": 5}, members=("ben", "cy"))
    ledger.add_member("acme", actor="pat", id="ada", role="admin")
    ledger.add_member("acme", actor="pat", id="oli", role="owner")
    with pytest.raises(Refused) as refused:
        ledger.remove_member("acme", target, actor=actor)
    assert refused.value.code == code and refused.value.decision.resume == [{"action": resume}]
    assert ledger.get_member("acme", target)["removed_at"] is None


def test_an_admin_removes_a_member_once_per_key(ledger, new_org):
    new_org(seats={"enterprise": 3}, members=("ben",))
    ledger.add_member("acme", actor="pat", id="ada", role="admin")
    first = ledger.remove_member("acme", "ben", actor="ada", idempotency_key="k1")
    again = ledger.remove_member("acme", "ben", actor="ada", idempotency_key="k1")
    assert again == first
    assert audited(ledger).count("member_removal") == 1
    with pytest.raises(Conflict) as twice:
        ledger.remove_member("acme", "ben", actor="ada", idempotency_key="k2")
    assert twice.value.code == "member_removed"


def test_only_the_primary_owner_transfers_the_role(ledger, new_org):
    new_org(seats={"enterprise": 4}, members=("ben",))
    ledger.add_member("acme", actor="pat", id="oli", role="owner")
    with pytest.raises(Refused) as refused:
        ledger.transfer_primary_owner("acme", actor="oli", to="ben")
    assert refused.value.code == "role_not_allowed"
    assert refused.value.decision.resume == [{"action": "ask_primary_owner"}]

    out = ledger.transfer_primary_owner("acme", actor="pat", to="ben", idempotency_key="t1")
    assert out["primary_owner"]["id"] == "ben" and out["primary_owner"]["role"] == "primary_owner"
    assert out["previous"]["id"] == "pat" and out["previous"]["role"] == "owner"
    assert ledger.transfer_primary_owner("acme", actor="pat", to="ben", idempotency_key="t1") == out
    assert sorted((m["id"], m["role"]) for m in ledger.list_members("acme")["items"]) == [
        ("ben", "primary_owner"), ("oli", "owner"), ("pat", "owner")]
    assert audited(ledger).count("owner_transfer") == 1
    # the new primary owner holds the powers; the former one is an owner now
    with pytest.raises(Refused):
        ledger.transfer_primary_owner("acme", actor="pat", to="oli")
    ledger.remove_member("acme", "pat", actor="ben")
    assert ledger.get_member("acme", "pat")["removed_at"] is not None


def test_the_role_goes_to_a_current_member_only(ledger, new_org):
    new_org(seats={"enterprise": 3}, members=("ben",))
    ledger.remove_member("acme", "ben", actor="pat")
    with pytest.raises(Conflict) as removed:
        ledger.transfer_primary_owner("acme", actor="pat", to="ben")
    assert removed.value.code == "member_removed"
    with pytest.raises(Refused):  # to oneself: no rule allows it
        ledger.transfer_primary_owner("acme", actor="pat", to="pat")
    assert ledger.get_member("acme", "pat")["role"] == "primary_owner"


# -- over HTTP: the same operations, their refusals, and the organizations list --

@pytest.fixture
def client(app):
    from datetime import date

    from tariff.engine.periods import add_months, period_start
    client = app.test_client()
    term = add_months(period_start(date.today()), -2).isoformat()
    for org in ("acme", "beta"):
        body = {"id": org, "name": org.title(), "plan": "enterprise_self_serve", "term_start": term,
                "seats": {"enterprise": 4}, "primary_owner": {"id": "pat"}}
        assert client.post("/v1/organizations", json=body).status_code == 201
    for member, role in (("ana", "member"), ("oli", "owner")):
        assert client.post("/v1/organizations/acme/members",
                           json={"actor": "pat", "id": member, "role": role}).status_code == 201
    return client


def test_removal_and_transfer_over_http(client):
    acme = "/v1/organizations/acme"
    refused = client.post(f"{acme}/members/oli/remove", json={"actor": "ana"})
    assert refused.status_code == 403 and refused.get_json()["decision"]["reasons"][0]["code"] == "role_not_allowed"
    removed = client.post(f"{acme}/members/ana/remove", json={"actor": "oli"}, headers={"Idempotency-Key": "r1"})
    assert removed.status_code == 200 and removed.get_json()["removed_at"]
    again = client.post(f"{acme}/members/ana/remove", json={"actor": "oli"}, headers={"Idempotency-Key": "r1"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == removed.get_json()
    assert [m["id"] for m in client.get(f"{acme}/members").get_json()["items"]] == ["oli", "pat"]
    assert [m["id"] for m in client.get(f"{acme}/members?removed=true").get_json()["items"]] == ["ana", "oli", "pat"]
    assert client.get(f"{acme}/members/ana").get_json()["removed_at"] == removed.get_json()["removed_at"]

    not_primary = client.post(f"{acme}/owner-transfer", json={"actor": "oli", "to": "oli"})
    assert not_primary.status_code == 403
    moved = client.post(f"{acme}/owner-transfer", json={"actor": "pat", "to": "oli"})
    assert moved.status_code == 200
    assert {k: v["role"] for k, v in moved.get_json().items()} == {"primary_owner": "primary_owner",
                                                                 "previous": "owner"}
    gone = client.post(f"{acme}/owner-transfer", json={"actor": "oli", "to": "ana"})
    assert gone.status_code == 409 and gone.get_json()["code"] == "member_removed"


def test_organizations_are_listed_a_page_at_a_time(client):
    first = client.get("/v1/organizations?limit=1").get_json()
    assert [o["id"] for o in first["items"]] == ["acme"] and first["next"]
    second = client.get(f"/v1/organizations?limit=1&cursor={first['next']}").get_json()
    assert [o["id"] for o in second["items"]] == ["beta"] and second["next"] is None
    bad = client.get("/v1/organizations?cursor=nope")
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["cursor"]
