"""/healthz, /readyz, /metrics."""
from __future__ import annotations

import re


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_names_the_served_version(app, client):
    body = client.get("/readyz").get_json()
    assert body == {"status": "ready", "policy_version": app.extensions["tariff"].policies.active().version}


def test_readyz_is_503_when_the_published_set_cannot_be_loaded(app, client, tmp_path):
    store = app.extensions["tariff"].policies
    pointer = store.pointer
    pointer.write_text('{"version": "x", "dir": "sets/missing", "published_at": "now"}')
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "not_ready"
    # the worker keeps deciding with the set it has
    assert client.get("/v1/policies").status_code == 200


def test_metrics_count_decisions_by_plan_outcome_and_reason(client, request_body):
    client.post("/v1/decisions", json=request_body("at_limits"))
    client.post("/v1/decisions", json=request_body("at_limits"))
    client.post("/v1/decisions/batch", json={"requests": [request_body("within")]})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert ('tariff_decisions_total{outcome="block",plan="enterprise_self_serve",reason="org_limit_reached"} 2.0'
            in text)
    assert 'tariff_decisions_total{outcome="allow",plan="enterprise_self_serve",reason="none"} 1.0' in text
    assert "tariff_decision_duration_seconds_count 3.0" in text
    assert re.search(r'tariff_decision_duration_seconds_bucket\{le="\+Inf"\} 3\.0', text)


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/healthz")
    client.get("/nowhere")
    client.post("/v1/decisions", data="{", content_type="application/json")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tariff_http_requests_total{endpoint="/healthz",status="200"} 1.0' in text
    assert 'tariff_http_requests_total{endpoint="unmatched",status="404"} 1.0' in text
    assert 'tariff_http_requests_total{endpoint="/v1/decisions",status="400"} 1.0' in text
