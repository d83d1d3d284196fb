"""One error shape for every failure: application/problem+json with code,
status, title, message, and field paths for validation errors."""
from __future__ import annotations

import logging

import pytest

URL = "/v1/decisions"


def problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert body["title"] and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_invalid_fields_are_named_by_path(client, post_json, request_body):
    payload = request_body()
    payload["member"]["spend"] = "lots"
    payload["event"]["tokens"] = {"input": 5}
    body = problem(post_json(client, URL, payload), 422, "invalid_request")
    assert set(body["errors"]) == {"member.spend", "event.tokens"}
    assert all(isinstance(m, str) for msgs in body["errors"].values() for m in msgs)


def test_unknown_fields_are_rejected(client, post_json, request_body):
    payload = request_body()
    payload["organization"]["limitt"] = "5"
    payload["surprise"] = True
    body = problem(post_json(client, URL, payload), 422, "invalid_request")
    assert {"organization.limitt", "surprise"} <= set(body["errors"])


def test_wrong_types(client, post_json, request_body):
    payload = request_body()
    payload["member"]["role"] = 7
    payload["as_of"] = ["2026-04-10"]
    body = problem(post_json(client, URL, payload), 422, "invalid_request")
    assert {"member.role", "as_of"} <= set(body["errors"])


def test_a_float_amount_is_refused_never_rounded(client, post_json, request_body):
    payload = request_body()
    payload["member"]["spend"] = True  # booleans are not amounts either
    body = problem(post_json(client, URL, payload), 422, "invalid_request")
    assert "member.spend" in body["errors"]


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_a_body_that_is_not_an_object(client, post_json, body):
    errors = problem(post_json(client, URL, body), 422, "invalid_request")["errors"]
    assert errors


def test_unknown_plan(client, post_json, request_body):
    payload = request_body()
    payload["plan"] = "platinum"
    body = problem(post_json(client, URL, payload), 422, "unknown_plan")
    assert list(body["errors"]) == ["plan"]
    assert "platinum" in body["message"]


def test_unknown_model(client, post_json, request_body):
    payload = request_body("within")
    payload["event"] = {"type": "usage", "product": "chat", "model": "gpt-5", "tokens": {"input": 10}}
    body = problem(post_json(client, URL, payload), 422, "unknown_model")
    assert list(body["errors"]) == ["event.model"]


def test_unsupported_event(client, post_json, request_body):
    payload = request_body()
    payload["event"] = {"type": "early_migration"}  # only the legacy plans migrate early
    body = problem(post_json(client, URL, payload), 422, "unsupported_event")
    assert list(body["errors"]) == ["event.type"]


@pytest.mark.parametrize("text", ['{"plan": ', "{'plan': 1}", '{"a": NaN}', '{"a": Infinity}', "\xff\xfe"])
def test_malformed_json_is_400(client, text):
    data = text.encode("latin-1") if text == "\xff\xfe" else text
    problem(client.post(URL, data=data, content_type="application/json"), 400, "malformed_json")


def test_deep_nesting_is_400_not_500(client):
    problem(client.post(URL, data="[" * 100000, content_type="application/json"), 400, "malformed_json")


def test_a_body_that_is_not_json_is_415(client):
    problem(client.post(URL, data="plan=x", content_type="application/x-www-form-urlencoded"), 415,
            "unsupported_media_type")
    problem(client.post(URL, data='{"plan": "x"}'), 415, "unsupported_media_type")


def test_an_oversized_body_is_413(make_app, post_json, request_body):
    client = make_app(MAX_CONTENT_LENGTH=2048).test_client()
    payload = request_body()
    payload["member"]["id"] = "x" * 4096
    problem(post_json(client, URL, payload), 413, "body_too_large")
    batch = {"requests": [request_body() for _ in range(20)]}
    problem(post_json(client, URL + "/batch", batch), 413, "body_too_large")
    assert post_json(client, URL, request_body()).status_code == 200


def test_unknown_path_is_404(client):
    problem(client.get("/v1/nothing"), 404, "not_found")
    problem(client.get("/"), 404, "not_found")


def test_wrong_method_is_405_with_allow(client):
    response = client.get(URL)
    problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    problem(client.delete("/v1/policies"), 405, "method_not_allowed")


def test_an_unexpected_error_is_a_generic_500_logged_with_its_details(app, client, post_json, request_body,
                                                                       monkeypatch, caplog):
    active = app.extensions["tariff"].policies.active()

    def broken(payload):
        raise RuntimeError("secret internal detail")
    monkeypatch.setattr(active.evaluator, "decide", broken)
    with caplog.at_level(logging.ERROR, logger="tariff.api"):
        response = post_json(client, URL, request_body())
    body = problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert set(body) == {"code", "status", "title", "message"}
    assert any("secret internal detail" in r.getMessage() or (r.exc_info and "secret internal detail" in
               str(r.exc_info[1])) for r in caplog.records)


def test_input_errors_are_counted(client, post_json, request_body):
    payload = request_body()
    payload["plan"] = "platinum"
    post_json(client, URL, payload)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'tariff_decision_input_errors_total{code="unknown_plan"} 1.0' in metrics


@pytest.mark.parametrize("field, value", [("as_of", "9999-12-31"), ("as_of", "99981231"),
                                          ("organization.term_start", "9999-06-01")])
def test_dates_at_the_end_of_the_calendar_are_422_not_500(client, post_json, request_body, field, value):
    payload = request_body()
    if "." in field:
        payload["organization"]["term_start"] = value
    else:
        payload["as_of"] = value
    body = problem(post_json(client, URL, payload), 422, "invalid_request")
    assert field in body["errors"]


def test_the_date_guard_does_not_refuse_ordinary_dates(client, post_json, request_body):
    payload = request_body()
    payload["organization"]["term_start"] = "2025-06-01"
    assert post_json(client, URL, payload).status_code == 200


@pytest.mark.parametrize("tokens, spend", [(10 ** 30, "10"), (10 ** 18, "10"), (10 ** 6, "999999999.99")])
def test_amounts_beyond_the_engines_range_are_422_not_500(client, post_json, request_body, tokens, spend):
    payload = request_body("within")
    payload["organization"]["spend"] = spend
    payload["organization"]["limit"] = "unlimited"
    payload["event"] = {"type": "usage", "product": "chat", "model": "claude-haiku-4-5", "tokens": {"output": tokens}}
    response = post_json(client, URL, payload)
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if tokens > 10 ** 6:
        assert response.status_code == 422
        assert response.get_json()["code"] in ("amount_out_of_range", "invalid_request")
