"""Keys, scopes and local mode (api/auth.py, storage/keys.py): while no key
exists, loopback callers need none; once one exists every /v1 request needs
a live key of enough scope; secrets are compared in constant time; health,
metrics and the document stay open."""
from __future__ import annotations

import hmac

import pytest

from tariff.storage import keys

OPEN = ["/healthz", "/readyz", "/metrics", "/openapi.json"]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def db(app):
    return app.extensions["tariff.ledger"].db


@pytest.fixture
def keyed(app, make_key):
    """The app once an admin key exists."""
    make_key(app, "admin")
    return app


def test_local_mode_serves_loopback_without_a_key(client, request_body):
    assert client.post("/v1/decisions", json=request_body()).status_code == 200
    assert client.get("/v1/policies").status_code == 200


def test_local_mode_refuses_a_caller_off_loopback_and_says_how_to_make_a_key(client, request_body):
    response = client.post("/v1/decisions", json=request_body(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 401
    assert "tariff keys create --scope admin" in response.get_json()["message"]


def test_ipv6_loopback_is_loopback(client):
    assert client.get("/v1/policies", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


@pytest.mark.parametrize("method, url", [("post", "/v1/decisions"), ("post", "/v1/decisions/batch"),
                                         ("get", "/v1/policies"), ("post", "/v1/policies/validate"),
                                         ("get", "/v1/organizations/acme")])
@pytest.mark.parametrize("header", [None, "Bearer nope-nope-nope", "Token {key}", "Bearer {key} extra", "Bearer",
                                    "Bearer {key}x", "Bearer tk_k0000000000000000_" + "A" * 43])
def test_once_a_key_exists_every_v1_request_needs_a_valid_one(app, make_key, method, url, header):
    secret = make_key(app, "admin")
    headers = {} if header is None else {"Authorization": header.format(key=secret)}
    response = getattr(app.test_client(), method)(url, headers=headers, json={})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json()["code"] == "unauthorized"
    assert response.get_json()["message"] == "Unauthorized"  # no detail


def test_a_revoked_key_is_refused_at_once(app, make_key, request_body):
    secret = make_key(app, "service")
    client = app.test_client()
    assert client.post("/v1/decisions", json=request_body(), headers=bearer(secret)).status_code == 200
    keys.revoke(db(app), secret.split("_")[1])
    assert client.post("/v1/decisions", json=request_body(), headers=bearer(secret)).status_code == 401


def test_revoking_every_key_does_not_bring_local_mode_back(app, make_key, request_body):
    secret = make_key(app, "admin")
    keys.revoke(db(app), secret.split("_")[1])
    assert app.test_client().post("/v1/decisions", json=request_body()).status_code == 401


@pytest.mark.parametrize("scope, decide, validate", [("read", 403, 403), ("service", 200, 403),
                                                     ("admin", 200, 200)])
def test_scopes_rank_admin_over_service_over_read(app, make_key, request_body, scope, decide, validate):
    secret = make_key(app, scope, organization="acme" if scope == "read" else None)
    client = app.test_client()
    assert client.post("/v1/decisions", json=request_body(), headers=bearer(secret)).status_code == decide
    response = client.post("/v1/policies/validate", json={"files": {}}, headers=bearer(secret))
    assert response.status_code == validate
    if validate == 403:
        assert response.get_json()["code"] == "scope_insufficient"
        assert response.get_json()["required_scope"] == "admin"
    assert client.get("/v1/policies", headers=bearer(secret)).status_code == 200


def test_a_key_bound_to_one_organization_cannot_see_another(app, make_key):
    secret = make_key(app, "service", organization="acme")
    client = app.test_client()
    other = client.get("/v1/organizations/globex", headers=bearer(secret))
    missing = client.get("/v1/organizations/acme", headers=bearer(secret))
    # both 404 with the ledger's own code: another organization looks like none at all
    assert other.status_code == missing.status_code == 404
    assert other.get_json()["code"] == missing.get_json()["code"] == "organization_not_found"


@pytest.mark.parametrize("url", OPEN)
def test_health_metrics_and_the_document_stay_open(keyed, url):
    assert keyed.test_client().get(url, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_secrets_are_compared_in_constant_time(app, make_key, monkeypatch, request_body):
    make_key(app, "admin")
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr("tariff.storage.keys.hmac.compare_digest", spy)
    app.test_client().post("/v1/decisions", json=request_body(),
                           headers=bearer("tk_k0123456789abcdef_" + "B" * 43))  # an id no key has
    app.test_client().post("/v1/decisions", json=request_body(), headers=bearer("not-even-shaped-right"))
    assert len(calls) == 2  # compared even when no key matched, against a dummy digest


def test_only_a_digest_of_the_secret_is_stored(app):
    key, secret = keys.create(db(app), "service", name="backend")
    from sqlalchemy import select
    from tariff.storage.models import ApiKey
    with db(app).read() as session:
        row = session.execute(select(ApiKey).where(ApiKey.id == key.id)).scalar_one()
    random_part = secret[len(f"tk_{key.id}_"):]  # it may itself hold "_": url-safe base64
    assert len(random_part) == 43
    assert secret not in (row.secret_sha256, row.name, row.id) and random_part not in row.secret_sha256
    assert row.secret_sha256 == keys.digest(secret)


def test_auth_comes_before_reading_the_body(keyed):
    response = keyed.test_client().post("/v1/decisions", data="{not json", content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("scope, organization, field", [("root", None, "scope"), ("admin", "acme", "organization"),
                                                        ("read", None, "organization"),
                                                        ("service", "bad id!", "organization")])
def test_a_key_that_cannot_be_is_refused_naming_the_field(app, scope, organization, field):
    with pytest.raises(keys.InvalidInput) as refused:
        keys.create(db(app), scope, organization)
    assert field in refused.value.errors


def test_the_document_declares_the_bearer_scheme(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    reload = spec["paths"]["/v1/policies/reload"]["post"]
    assert reload["x-scope"] == "admin" and reload["security"] == [{"bearer": []}]
    assert spec["paths"]["/healthz"]["get"]["security"] == []


@pytest.mark.parametrize("name", ["TARIFF_API_TOKEN", "TARIFF_ADMIN_TOKEN"])
def test_the_old_tokens_are_refused_saying_how_to_make_a_key(make_app, monkeypatch, name):
    from tariff.api.config import ConfigError
    monkeypatch.setenv(name, "a-token-from-before-keys")
    with pytest.raises(ConfigError, match="tariff keys create --scope admin"):
        make_app()


def test_a_session_secret_must_not_be_trivially_short(make_app):
    from tariff.api.config import ConfigError
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(SECRET_KEY="short")


def test_the_caller_does_not_leak_into_the_next_request(app, make_key, request_body):
    """A worker serves one request after another: storage's caller is reset
    when each request starts, and forgotten when it ends (a job the thread
    runs afterwards is no key's)."""
    from tariff.storage import caller
    secret = make_key(app, "service", name="first")
    client = app.test_client()
    assert client.post("/v1/decisions", json=request_body(), headers=bearer(secret)).status_code == 200
    assert caller.current() is None  # forgotten when the request ended
    caller.set_current(caller.Caller("k-stale", "stale"))  # as if a teardown had not run
    with app.test_request_context("/healthz"):
        app.preprocess_request()
        assert caller.current() is None
