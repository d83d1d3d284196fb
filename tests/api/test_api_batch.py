"""POST /v1/decisions/batch: one result per item, in order; a bad item is
reported in its place and does not fail the others."""
from __future__ import annotations

import uuid

from tariff.api.schemas.decisions import BatchResponseSchema

URL = "/v1/decisions/batch"


def test_one_result_per_item_in_order(client, post_json, loads, request_body):
    items = [request_body("within"), request_body("at_limits"), request_body("within")]
    response = post_json(client, URL, {"requests": items})
    assert response.status_code == 200
    body = loads(response)
    BatchResponseSchema().load(body)
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert [r["decision"]["outcome"] for r in body["results"]] == ["allow", "block", "allow"]
    ids = {r["decision"]["decision_id"] for r in body["results"]}
    assert len(ids) == 3 and all(uuid.UUID(i) for i in ids)
    assert {r["decision"]["policy_version"] for r in body["results"]} == {body["policy_version"]}


def test_a_bad_item_is_reported_in_place_without_failing_the_others(client, post_json, loads, request_body):
    bad_plan = request_body()
    bad_plan["plan"] = "platinum"
    bad_field = request_body()
    bad_field["member"]["spend"] = "lots"
    items = [request_body("within"), bad_plan, "not an object", bad_field, request_body("at_limits")]
    body = loads(post_json(client, URL, {"requests": items}))
    BatchResponseSchema().load(body)
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [(0, 200), (1, 422), (2, 422), (3, 422), (4, 200)]
    errors = [r["error"] for r in body["results"] if r["status"] == 422]
    assert [e["code"] for e in errors] == ["unknown_plan", "invalid_request", "invalid_request"]
    assert list(errors[0]["errors"]) == ["plan"]
    assert list(errors[2]["errors"]) == ["member.spend"]
    assert all("decision" not in r for r in body["results"] if r["status"] == 422)


def test_the_batch_matches_single_decisions(client, post_json, loads, request_body):
    items = [request_body("within"), request_body("at_limits")]
    batch = loads(post_json(client, URL + "?explain=true", {"requests": items}))
    for item, result in zip(items, batch["results"]):
        single = loads(post_json(client, "/v1/decisions?explain=true", item))
        single.pop("decision_id")
        result["decision"].pop("decision_id")
        assert result["decision"] == single
    assert "trace" in batch["results"][0]["decision"]


def test_messages_follow_accept_language(client, post_json, loads, request_body):
    response = post_json(client, URL, {"requests": [request_body()]}, headers={"Accept-Language": "fr"})
    assert response.headers["Content-Language"] == "fr"
    assert "1\u202f000,00" in loads(response)["results"][0]["decision"]["reasons"][0]["message"]


def test_the_envelope_must_be_right(client, post_json):
    for body, path in [({}, "requests"), ({"requests": []}, "requests"), ({"requests": {}}, "requests"),
                       ({"requests": [], "extra": 1}, "extra"), ([], "body")]:
        response = post_json(client, URL, body)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"
        assert path in response.get_json()["errors"], (body, response.get_json())


def test_at_most_max_batch_items(make_app, post_json, request_body):
    client = make_app(MAX_BATCH=3).test_client()
    assert post_json(client, URL, {"requests": [request_body()] * 3}).status_code == 200
    response = post_json(client, URL, {"requests": [request_body()] * 4})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"requests": ["at most 3 requests in one batch"]}


def test_malformed_json_is_400(client):
    response = client.post(URL, data='{"requests": [', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "malformed_json"
