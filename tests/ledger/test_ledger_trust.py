"""Keys over HTTP, member sessions and the audit trail (issue 9 items 1-3),
on SQLite and PostgreSQL: who may act as whom, and that every change says
who made it and which decision allowed it."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hostile_http import acme_and_globex

REPO_ROOT = Path(__file__).resolve().parents[2]


def make_app(**config):
    from tariff.api import create_app
    app = create_app({"POLICIES_DIR": str(REPO_ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                      **config})
    MADE.append(app)
    return app


MADE: list = []


@pytest.fixture(autouse=True)
def _dispose_apps():
    """PostgreSQL's connections go back when a test ends, not when the apps are collected."""
    yield
    while MADE:
        MADE.pop().extensions["tariff.ledger"].db.dispose()


@pytest.fixture
def app(migrated_url, tmp_path):
    return make_app(DECISION_LOG=str(tmp_path / "decisions.jsonl"), STATE_DIR=str(tmp_path / "state"),
                    DATABASE_URL=migrated_url)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(app):
    """acme (pat the primary owner, ana a member) and globex, made in local
    mode; then an admin key and a service key: local mode is over."""
    client = app.test_client()
    acme_and_globex(client)
    admin = client.post("/v1/keys", json={"scope": "admin", "name": "ops"}).get_json()["secret"]
    service = client.post("/v1/keys", json={"scope": "service", "name": "backend"},
                          headers=bearer(admin)).get_json()
    return {"client": client, "admin": admin, "service": service["secret"], "service_id": service["id"]}


def session(client, key, member, org="acme", **extra):
    response = client.post(f"/v1/organizations/{org}/sessions", json={"member": member, **extra},
                           headers=bearer(key))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


# -- keys over HTTP --------------------------------------------------------------------

def test_the_first_key_ends_local_mode(world):
    assert world["client"].get("/v1/organizations/acme").status_code == 401


def test_keys_are_made_listed_and_revoked_by_admins_only(world):
    client, admin, service = world["client"], world["admin"], world["service"]
    made = client.post("/v1/keys", json={"scope": "read", "organization": "acme", "name": "dash"},
                       headers=bearer(admin))
    assert made.status_code == 201
    body = made.get_json()
    assert body["secret"].startswith("tk_") and body["organization"] == "acme" and body["revoked_at"] is None
    assert client.get("/v1/organizations/acme", headers=bearer(body["secret"])).status_code == 200
    listed = client.get("/v1/keys", headers=bearer(admin)).get_json()["items"]
    assert [k["name"] for k in listed] == ["ops", "backend", "dash"]
    assert all("secret" not in k for k in listed) and body["secret"] not in json.dumps(listed)
    assert client.get("/v1/keys", headers=bearer(service)).status_code == 403
    assert client.post("/v1/keys", json={"scope": "admin"}, headers=bearer(service)).status_code == 403
    revoked = client.post(f"/v1/keys/{body['id']}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"] is not None
    admin_id = admin.split("_")[1]
    assert (body["created_by"], revoked.get_json()["revoked_by"]) == (admin_id, admin_id)  # who manages keys
    assert listed[0]["created_by"] == "local"  # the first key: made in local mode
    assert client.get("/v1/organizations/acme", headers=bearer(body["secret"])).status_code == 401
    assert client.post("/v1/keys/knope/revoke", headers=bearer(admin)).status_code == 404


@pytest.mark.parametrize("body, field", [({"scope": "root"}, "scope"), ({"scope": "read"}, "organization"),
                                         ({"scope": "admin", "organization": "acme"}, "organization"),
                                         ({"scope": "service", "organization": "a b"}, "organization"),
                                         ({"scope": "service", "name": ""}, "name"),
                                         ({"scope": "service", "extra": 1}, "extra")])
def test_a_key_that_cannot_be_is_a_422_naming_the_field(world, body, field):
    response = world["client"].post("/v1/keys", json=body, headers=bearer(world["admin"]))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_key_creation_is_idempotent_and_never_gives_the_secret_twice(world):
    client, admin = world["client"], world["admin"]
    headers = {**bearer(admin), "Idempotency-Key": "make-backend-2"}
    first = client.post("/v1/keys", json={"scope": "service", "name": "b2"}, headers=headers)
    again = client.post("/v1/keys", json={"scope": "service", "name": "b2"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["secret"] is None
    assert [k["name"] for k in client.get("/v1/keys", headers=bearer(admin)).get_json()["items"]].count("b2") == 1
    other = client.post("/v1/keys", json={"scope": "service", "name": "b3"}, headers=headers)
    assert other.status_code == 409 and other.get_json()["code"] == "idempotency_key_reused"


# -- member sessions -----------------------------------------------------------------------

def test_a_session_acts_as_its_member_and_only_them(world):
    client = world["client"]
    token = session(client, world["service"], "ana", ttl_s=600)
    # ana (a member) may not set the organization's limit: the policy says so by her ledger role
    refused = client.put("/v1/organizations/acme/limits", json={"level": "organization", "limit": "100"},
                         headers=bearer(token))
    assert refused.status_code == 403 and refused.get_json()["code"] == "role_not_allowed"
    # naming the owner does not make her the owner
    posing = client.put("/v1/organizations/acme/limits", json={"actor": "pat", "level": "organization",
                                                               "limit": "100"}, headers=bearer(token))
    assert posing.status_code == 403 and posing.get_json()["code"] == "actor_not_session_member"
    assert posing.get_json()["errors"] == {"actor": ["must be the session's member"]}
    owner = session(client, world["service"], "pat")
    allowed = client.put("/v1/organizations/acme/limits", json={"level": "organization", "limit": "100"},
                         headers=bearer(owner))
    assert allowed.status_code == 200, allowed.get_json()


def test_the_members_current_role_decides_not_the_role_when_the_session_began(world):
    client, service = world["client"], world["service"]
    token = session(client, service, "ana")
    body = {"level": "organization", "limit": "100"}
    assert client.put("/v1/organizations/acme/limits", json=body, headers=bearer(token)).status_code == 403
    promoted = client.patch("/v1/organizations/acme/members/ana", json={"actor": "pat", "role": "owner"},
                            headers=bearer(service))
    assert promoted.status_code == 200, promoted.get_json()
    assert client.put("/v1/organizations/acme/limits", json=body, headers=bearer(token)).status_code == 200


def test_a_session_reads_its_organization_and_no_other(world):
    client = world["client"]
    token = session(client, world["service"], "ana")
    assert client.get("/v1/organizations/acme", headers=bearer(token)).status_code == 200
    assert client.get("/v1/organizations/acme/credits", headers=bearer(token)).status_code == 200
    other = client.get("/v1/organizations/globex", headers=bearer(token))
    assert other.status_code == 404 and other.get_json()["code"] == "organization_not_found"


def test_a_session_cannot_do_what_needs_a_service_or_admin(world, request):
    client = world["client"]
    token = session(client, world["service"], "pat")  # even the primary owner's
    decision = {"plan": "enterprise_self_serve", "as_of": "2026-04-10",
                "organization": {"term_start": "2026-01-01"}, "member": {"id": "pat", "role": "primary_owner"},
                "event": {"type": "usage_precheck", "product": "chat"}}
    for method, url, body in (("post", "/v1/decisions", decision),
                              ("post", "/v1/organizations/acme/sessions", {"member": "ana"}),
                              ("post", "/v1/organizations", {}), ("get", "/v1/keys", None)):
        response = getattr(client, method)(url, json=body, headers=bearer(token))
        assert response.status_code == 403, (url, response.get_json())


def test_sessions_need_a_live_key_and_a_time_limit(world):
    client, admin = world["client"], world["admin"]
    made = client.post("/v1/keys", json={"scope": "service", "name": "short-lived"}, headers=bearer(admin)).get_json()
    token = session(client, made["secret"], "ana")
    assert client.get("/v1/organizations/acme", headers=bearer(token)).status_code == 200
    client.post(f"/v1/keys/{made['id']}/revoke", headers=bearer(admin))
    assert client.get("/v1/organizations/acme", headers=bearer(token)).status_code == 401  # dies with its key
    tampered = session(client, world["service"], "ana")
    payload, signature = tampered[3:].rsplit(".", 1)
    forged = "ts_" + payload.replace("a", "b", 1) + "." + signature
    assert client.get("/v1/organizations/acme", headers=bearer(forged)).status_code == 401
    for ttl in (59, 86_401, "60", 1.5):
        response = client.post("/v1/organizations/acme/sessions", json={"member": "ana", "ttl_s": ttl},
                               headers=bearer(world["service"]))
        assert response.status_code == 422 and "ttl_s" in response.get_json()["errors"]


def test_an_expired_session_is_refused(world, monkeypatch):
    client = world["client"]
    token = session(client, world["service"], "ana", ttl_s=60)
    real = time.time
    monkeypatch.setattr("tariff.api.sessions.time.time", lambda: real() + 61)
    assert client.get("/v1/organizations/acme", headers=bearer(token)).status_code == 401


def test_sessions_are_only_for_members_of_the_keys_organization(world):
    client, admin = world["client"], world["admin"]
    bound = client.post("/v1/keys", json={"scope": "service", "organization": "globex"},
                        headers=bearer(admin)).get_json()["secret"]
    assert client.post("/v1/organizations/acme/sessions", json={"member": "ana"},
                       headers=bearer(bound)).status_code == 404
    assert client.post("/v1/organizations/acme/sessions", json={"member": "nobody"},
                       headers=bearer(admin)).status_code == 404


def test_every_worker_accepts_every_workers_sessions(world, migrated_url, tmp_path):
    """The signing secret is kept in the database: another app on it (another worker) accepts the token."""
    token = session(world["client"], world["service"], "ana")
    other = make_app(STATE_DIR=str(tmp_path / "state2"), DATABASE_URL=migrated_url).test_client()
    assert other.get("/v1/organizations/acme", headers=bearer(token)).status_code == 200


def test_a_configured_secret_key_signs_instead(world, migrated_url, tmp_path):
    token = session(world["client"], world["service"], "ana")
    other = make_app(STATE_DIR=str(tmp_path / "state2"), DATABASE_URL=migrated_url, SECRET_KEY="s" * 40).test_client()
    assert other.get("/v1/organizations/acme", headers=bearer(token)).status_code == 401


# -- the audit trail ---------------------------------------------------------------------------

def test_every_change_says_who_made_it_and_which_decision_allowed_it(world, tmp_path):
    client, service = world["client"], world["service"]
    token = session(client, service, "pat")
    added = client.post("/v1/organizations/acme/seats/add", json={"actor": "pat", "count": 2},
                        headers={**bearer(service), "Idempotency-Key": "seats-1"})
    assert added.status_code == 201, added.get_json()
    limited = client.put("/v1/organizations/acme/limits", json={"level": "organization", "limit": "500"},
                         headers=bearer(token))
    assert limited.status_code == 200
    page = client.get("/v1/organizations/acme/audit", headers=bearer(service)).get_json()
    assert page["next"] is None
    seats, limit = page["items"][-2:]
    assert (seats["event"], seats["actor"], seats["key_id"], seats["key_name"]) == \
        ("seats_added", "pat", world["service_id"], "backend")
    assert seats["charges"] and seats["policy_version"]
    assert (limit["event"], limit["actor"], limit["key_id"], limit["key_name"]) == \
        ("limit_change", "pat", world["service_id"], "session of pat")
    # the organization made in local mode: no key
    assert page["items"][0]["key_id"] is None and page["items"][0]["key_name"] == "local"
    # the decision log carries the same decision id and who asked
    lines = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    logged = {line["decision_id"]: line for line in lines}
    assert logged[seats["decision_id"]]["caller"] == {"key_id": world["service_id"], "key_name": "backend",
                                                      "member": None}
    assert logged[limit["decision_id"]]["caller"]["member"] == "pat"
    assert logged[limit["decision_id"]]["policy_version"] == limit["policy_version"]


def test_the_audit_trail_pages_with_an_opaque_cursor(world):
    client, service = world["client"], world["service"]
    for n in range(3):
        client.post("/v1/organizations/acme/seats/add", json={"actor": "pat", "count": 1}, headers=bearer(service))
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/organizations/acme/audit", query_string=query, headers=bearer(service)).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    everything = client.get("/v1/organizations/acme/audit", headers=bearer(service)).get_json()["items"]
    assert seen == [item["id"] for item in everything] and len(seen) >= 4


@pytest.mark.parametrize("cursor", ["not-a-cursor", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMF0", "WyJ4Il0", "%00",
                                    "W3t9XQ"])
def test_a_bad_cursor_is_a_422_naming_it(world, cursor):
    response = world["client"].get("/v1/organizations/acme/audit", query_string={"cursor": cursor},
                                   headers=bearer(world["service"]))
    assert response.status_code in (400, 422), response.get_json()
    assert any("cursor" in field for field in response.get_json()["errors"])


def test_a_read_key_reads_the_audit_trail_of_its_organization_only(world):
    client = world["client"]
    read = client.post("/v1/keys", json={"scope": "read", "organization": "globex"},
                       headers=bearer(world["admin"])).get_json()["secret"]
    assert client.get("/v1/organizations/globex/audit", headers=bearer(read)).status_code == 200
    assert client.get("/v1/organizations/acme/audit", headers=bearer(read)).status_code == 404
