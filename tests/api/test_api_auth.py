"""TARIFF_API_TOKEN guards the /v1 endpoints that read or decide; tokens are
compared in constant time; a missing or wrong one is a bare 401."""
from __future__ import annotations

import hmac

import pytest

from tariff.api.config import ConfigError

API = "api-token-for-tests"
ADMIN = "admin-token-for-tests"
GUARDED = [("post", "/v1/decisions"), ("post", "/v1/decisions/batch"), ("get", "/v1/policies"),
           ("post", "/v1/policies/validate")]
OPEN = ["/healthz", "/readyz", "/metrics", "/openapi.json"]


@pytest.fixture
def guarded(make_app):
    return make_app(API_TOKEN=API, ADMIN_TOKEN=ADMIN).test_client()


@pytest.mark.parametrize("method, url", GUARDED)
@pytest.mark.parametrize("header", [None, "Bearer nope-nope-nope", f"Token {API}", f"Bearer {API} extra"])
def test_guarded_endpoints_need_the_api_token(guarded, method, url, header):
    headers = {} if header is None else {"Authorization": header}
    response = getattr(guarded, method)(url, headers=headers, json={})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "unauthorized"
    assert response.get_json()["message"] == "Unauthorized"  # no detail


@pytest.mark.parametrize("token", [API, ADMIN])
def test_the_api_or_admin_token_opens_them(guarded, request_body, token):
    headers = {"Authorization": f"Bearer {token}"}
    assert guarded.post("/v1/decisions", json=request_body(), headers=headers).status_code == 200
    assert guarded.get("/v1/policies", headers=headers).status_code == 200


def test_the_api_token_does_not_open_reload(guarded):
    assert guarded.post("/v1/policies/reload", headers={"Authorization": f"Bearer {API}"}).status_code == 401


@pytest.mark.parametrize("url", OPEN)
def test_health_metrics_and_the_document_stay_open(guarded, url):
    assert guarded.get(url).status_code == 200


def test_without_an_api_token_decisions_are_open(client, request_body):
    assert client.post("/v1/decisions", json=request_body()).status_code == 200


def test_tokens_are_compared_in_constant_time(guarded, monkeypatch, request_body):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr("tariff.api.auth.hmac.compare_digest", spy)
    guarded.post("/v1/decisions", json=request_body(), headers={"Authorization": "Bearer wrong-token"})
    assert calls and all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


def test_auth_comes_before_reading_the_body(guarded):
    response = guarded.post("/v1/decisions", data="{not json", content_type="application/json")
    assert response.status_code == 401


def test_tokens_must_not_be_trivially_short(make_app):
    with pytest.raises(ConfigError):
        make_app(ADMIN_TOKEN="short")


def test_tokens_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("TARIFF_ADMIN_TOKEN", "admin-token-from-env")
    client = make_app().test_client()
    assert client.post("/v1/policies/reload").status_code == 401
    ok = client.post("/v1/policies/reload", headers={"Authorization": "Bearer admin-token-from-env"})
    assert ok.status_code == 200
