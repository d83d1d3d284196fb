"""POST /v1/decisions: the engine's decision, with an id, messages, the trace."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tariff.api.schemas.decisions import DecisionSchema
from tariff.engine import Evaluator, load_policy_set

URL = "/v1/decisions"


def test_a_decision_is_the_engines_with_an_id_and_the_policy_version(client, post_json, loads, request_body,
                                                                     app):
    response = post_json(client, URL, request_body())
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = loads(response)
    DecisionSchema().load(body)  # strictly the documented shape
    assert uuid.UUID(body["decision_id"]).version == 4
    expected = Evaluator(load_policy_set("policies")).decide(request_body()).to_dict()
    assert body["policy_version"] == expected["policy_version"] == app.extensions["tariff"].policies.active().version
    assert body["outcome"] == "block"
    assert [r["code"] for r in body["reasons"]] == ["org_limit_reached", "individual_limit_reached"]
    assert body["binding_limit"] == {"level": "organization", "limit": "1000", "spend": "1000", "headroom": "0"}
    without_messages = {k: v for k, v in body.items() if k != "decision_id"}
    for section in ("reasons", "resume", "notifications"):
        for item in without_messages[section]:
            item.pop("message")
    assert without_messages == expected
    assert "trace" not in body


def test_every_decision_gets_its_own_id(client, post_json, loads, request_body):
    ids = {loads(post_json(client, URL, request_body()))["decision_id"] for _ in range(5)}
    assert len(ids) == 5


def test_explain_adds_the_trace_with_the_files_as_served(app, client, post_json, loads, request_body):
    body = loads(post_json(client, f"{URL}?explain=true", request_body()))
    DecisionSchema().load(body)
    rules = [step["rule"] for step in body["trace"]]
    assert "org_limit_reached" in rules and "individual_limit_reached" in rules
    for step in body["trace"]:
        # named as in the policies directory, never the private snapshot
        assert step["file"].startswith(str(app.config["POLICIES_DIR"]) + "/"), step["file"]
        assert step["line"] >= 1 and step["column"] >= 1


def test_explain_false_and_unknown_query_parameters(client, post_json, request_body):
    assert "trace" not in post_json(client, f"{URL}?explain=false", request_body()).get_json()
    response = post_json(client, f"{URL}?explain=maybe", request_body())
    assert response.status_code == 422
    assert "query.explain" in response.get_json()["errors"]
    response = post_json(client, f"{URL}?verbose=1", request_body())
    assert response.status_code == 422
    assert "query.verbose" in response.get_json()["errors"]


def test_messages_follow_accept_language(client, post_json, loads, request_body):
    response = post_json(client, URL, request_body(), headers={"Accept-Language": "de-CH, fr;q=0.5"})
    assert response.headers["Content-Language"] == "de"
    body = loads(response)
    assert body["reasons"][0]["message"] == \
        "Ihre Organisation hat ihre monatliche Ausgabengrenze von 1.000,00\xa0$ erreicht."
    assert "Organisationsebene" in body["resume"][0]["message"]  # the level id is translated
    assert "1. Mai 2026" in body["resume"][1]["message"]


@pytest.mark.parametrize("header, lang", [(None, "en"), ("", "en"), ("xx, *;q=0", "en"), ("ru", "ru"),
                                          ("fr-CA;q=0.9, it;q=0.95", "it"), ("garbage;;q=7", "en")])
def test_language_negotiation_falls_back_to_english(client, post_json, request_body, header, lang):
    headers = {} if header is None else {"Accept-Language": header}
    response = post_json(client, URL, request_body(), headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == lang


def test_english_messages(client, post_json, loads, request_body):
    body = loads(post_json(client, URL, request_body()))
    assert body["reasons"][1]["message"] == "You have reached your individual spend limit of $50.00."
    assert body["resume"][0]["message"] == "Ask an owner or the primary owner to raise the organization spend limit."
    assert body["resume"][1]["message"] == "Usage resumes on May 1, 2026, when the next billing period starts."


def test_notifications_carry_a_message(client, post_json, loads, request_body):
    payload = request_body("within")
    payload["organization"].update(spend="49.50", limit="100")
    payload["event"] = {"type": "usage", "product": "chat", "model": "claude-haiku-4-5",
                        "tokens": {"input": 1000000}}
    body = loads(post_json(client, URL, payload))
    assert body["outcome"] == "allow"
    [note] = body["notifications"]
    assert note["type"] == "spend_threshold" and note["threshold_pct"] == 50
    assert note["message"] == ("Spend has reached 50% of the organization spend limit: $50.50 of $100.00 "
                               "this billing period.")


def test_amounts_sent_as_json_numbers_are_read_exactly(client, post_json, loads, request_body):
    payload = request_body("within")
    body = (
        '{"plan": "enterprise_self_serve", "as_of": "2026-04-10",'
        ' "organization": {"term_start": "2026-01-01", "credit_balance": 250.10, "spend": 0.1, "limit": 0.3},'
        ' "member": {"id": "m", "role": "member", "spend": 0.2, "limit": "unlimited"},'
        ' "event": {"type": "usage_precheck", "product": "chat"}}'
    )
    decision = loads(post_json(client, URL, body))
    # 0.1 + 0.2 == 0.3 only in decimal: a float would leave headroom of 5.5e-17
    assert decision["binding_limit"]["limit"] == "0.3"
    assert decision["binding_limit"]["headroom"] == "0.2"
    assert payload  # the dict fixture is untouched


def test_a_float_never_reaches_the_engine(app, client, post_json, request_body, monkeypatch):
    seen = []
    active = app.extensions["tariff"].policies.active()
    real = active.evaluator.decide

    def spy(payload):
        seen.append(payload)
        return real(payload)
    monkeypatch.setattr(active.evaluator, "decide", spy)
    post_json(client, URL, '{"plan": "enterprise_self_serve", "as_of": "2026-04-10", "organization": '
                           '{"spend": 1.5, "term_start": "2026-01-01", "credit_balance": "9"}, "member": '
                           '{"role": "member", "spend": 0.25}, "event": {"type": "usage_precheck", '
                           '"product": "chat", "estimate": 1e-3}}')
    assert seen[0]["organization"]["spend"] == Decimal("1.5")
    assert isinstance(seen[0]["member"]["spend"], Decimal)
    assert seen[0]["event"]["estimate"] == Decimal("0.001")


def test_the_decision_matches_the_engine_for_every_fixture_request(client, post_json, loads):
    """Every fixture's request, through HTTP, gets exactly the engine's answer."""
    from tariff.engine import InputError
    from tariff.engine import fixture_files, load_cases
    evaluator = Evaluator(load_policy_set("policies"))
    checked = 0
    for path in fixture_files(["fixtures"]):
        for case in load_cases(path):
            response = post_json(client, URL, case.request)
            body = loads(response)
            try:
                expected = evaluator.decide(case.request).to_dict()
            except InputError as exc:
                assert response.status_code == 422, case.id
                assert response.content_type == "application/problem+json"
                assert (body["code"], body["errors"]) == (exc.code, exc.errors), case.id
                continue
            assert response.status_code == 200, (case.id, body)
            for section in ("reasons", "resume", "notifications"):
                for item in body[section]:
                    assert item.pop("message"), case.id
            if body["transition"] is not None:
                assert body["transition"].pop("message"), case.id
            body.pop("decision_id")
            assert body == expected, case.id
            checked += 1
    assert checked > 0
