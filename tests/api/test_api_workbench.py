"""The workbench's JSON (/v1/workbench) and the console's pages as served
(language, catalogs, the billing rules reference); what only a browser shows
is in tests/browser."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from tariff.api.console.strings import NAMES, catalog
from tariff.i18n import SUPPORTED

REQUEST = {"plan": "enterprise_self_serve", "as_of": "2026-04-10",
           "organization": {"term_start": "2026-01-01", "credit_balance": "250", "spend": "10", "limit": "1000"},
           "member": {"id": "m-ana", "role": "member", "spend": "0"},
           "event": {"type": "usage", "product": "chat", "model": "claude-opus-4-6", "tokens": {"input": 2_000_000}}}


def test_plans_list_their_rules_with_cites_and_places(client):
    body = client.get("/v1/workbench/plans").get_json()
    plans = {p["id"]: p for p in body["plans"]}
    assert set(plans) == {"enterprise_sales_assisted", "enterprise_self_serve", "legacy_chat_code", "seat_based"}
    assert plans["seat_based"]["seat_types"] == {"standard": ["chat"], "premium": ["chat", "claude_code"]}
    rules = plans["enterprise_self_serve"]["rules"]
    assert rules and all(re.fullmatch(r"[SUCALMRPD][0-9]+", c) for r in rules for c in r["cites"])
    assert all(r["file"].endswith(".yaml") and r["line"] >= 1 and r["column"] >= 1 for r in rules)
    assert {"usage", "usage_precheck"} <= {e for r in rules for e in r["on"]}


def test_the_rate_card_is_a_history_per_model(client):
    models = {m["model"]: m["history"] for m in client.get("/v1/workbench/rate-card").get_json()["models"]}
    [opus] = models["claude-opus-4-6"]
    assert (opus["effective_from"], opus["per_million"]["input"], opus["per_million"]["cache_read"]) == (
        "2026-02-05", "5", "0.5")
    assert opus["file"].endswith("rate_card.yaml") and opus["line"] > 1
    [sonnet] = models["claude-sonnet-4"]
    assert sonnet["long_context"] == {"input": "6", "output": "22.5", "cache_write_5m": "7.5", "cache_write_1h": "12",
                                      "cache_read": "0.6", "above_prompt_tokens": "200000"}


def test_a_served_file_and_the_findings(client):
    text = client.get("/v1/workbench/file?path=rate_card.yaml").get_json()["text"]
    assert "rate_card:" in text
    assert client.get("/v1/workbench/file?path=nope.yaml").status_code == 404
    assert client.get("/v1/workbench/file?path=../setup.cfg").status_code == 422
    findings = client.get("/v1/workbench/findings").get_json()["findings"]
    assert all({"file", "line", "column", "code", "message"} <= set(f) for f in findings)


def test_the_playground_explains_with_a_trace_in_the_asked_language(client):
    response = client.post("/v1/workbench/explain", json=REQUEST, headers={"Accept-Language": "de"})
    body = response.get_json()
    assert response.status_code == 200 and body["decision"]["outcome"] == "allow"
    assert body["decision"]["charges"]["total"] == "10"
    assert body["decision"]["trace"] and all(re.search(r"\.yaml$", s["file"]) and s["line"] for s in
                                             body["decision"]["trace"])
    assert any("10" in line for line in body["explanation"])
    bad = client.post("/v1/workbench/explain", json={**REQUEST, "plan": "gold"})
    assert bad.status_code == 422 and bad.get_json()["code"] == "unknown_plan"


def _dearer_opus(client) -> str:
    text = client.get("/v1/workbench/file?path=rate_card.yaml").get_json()["text"]
    changed = text.replace("{input: 5, output: 25,", "{input: 6, output: 25,")
    assert changed != text
    return changed


def test_what_if_gives_the_money_difference_per_organization(client):
    events = "\n".join(json.dumps({**REQUEST, "organization": {**REQUEST["organization"], "id": org}})
                       for org in ("acme", "acme", "beta")) + "\n"
    body = client.post("/v1/workbench/what-if", json={"files": {"rate_card.yaml": _dearer_opus(client)},
                                                      "events": events}).get_json()
    assert body["valid"] is True
    groups = {g["organization"]: g for g in body["report"]["groups"]}
    # 2M input tokens at 5 then 6 USD a million: 10 -> 12 each event.
    assert (groups["acme"]["old_charges"], groups["acme"]["new_charges"], groups["acme"]["change"]) == ("20", "24", "4")
    assert groups["beta"]["change"] == "2" and body["report"]["totals"]["change"] == "6"


def test_what_if_replays_the_ledger_and_reports_a_broken_set_with_places(client):
    client.post("/v1/organizations", json={"id": "acme", "name": "Acme", "plan": "enterprise_sales_assisted",
                                           "term_start": "2026-01-01", "seats": {"enterprise": 2},
                                           "primary_owner": {"id": "pat"}})
    ledger = client.post("/v1/workbench/what-if", json={"files": {}, "ledger": True}).get_json()
    assert ledger["valid"] and ledger["report"]["events"] >= 1
    assert {g["organization"] for g in ledger["report"]["groups"]} == {"acme"}
    broken = client.post("/v1/workbench/what-if", json={"files": {"rate_card.yaml": "rate_card: [{oops"},
                                                        "ledger": True}).get_json()
    assert broken["valid"] is False and broken["report"] is None
    places = {(f["file"], f["line"], f["column"], f["code"]) for f in broken["findings"]}
    assert ("rate_card.yaml", 1, 18, "yaml_syntax") in places and (".", 1, 1, "missing_rate_card") in places


@pytest.mark.parametrize("body, field", [({"files": {}}, "events"),
                                         ({"files": {}, "events": "{not json\n"}, "events"),
                                         ({"files": {}, "events": "{\"a\": " + "[" * 100_000 + "\n"}, "events"),
                                         ({"files": {"../x.yaml": "a: 1"}, "ledger": True}, "files")])
def test_what_if_refuses_bad_input_naming_the_field(client, body, field):
    response = client.post("/v1/workbench/what-if", json=body)
    assert response.status_code == 422
    assert any(key.split(".")[0] == field for key in response.get_json()["errors"])


def test_staff_tools_need_their_scopes_once_keys_exist(app, client, make_key):
    secret = make_key(app, "service", organization="acme")
    assert client.post("/v1/workbench/what-if", json={"files": {}, "ledger": True}).status_code == 401
    refused = client.post("/v1/workbench/what-if", json={"files": {}, "ledger": True},
                          headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 403  # a service key is no billing staff: the ledger's whole history is admin's
    admin = make_key(app)
    assert client.post("/v1/workbench/fixtures", headers={"Authorization": f"Bearer {admin}"}).status_code == 200


# -- the pages --------------------------------------------------------------------------------

def test_pages_are_in_the_chosen_or_negotiated_language(client):
    assert '<html lang="de">' in client.get("/console?lang=de").get_data(as_text=True)
    page = client.get("/console/workbench", headers={"Accept-Language": "fr-CH, en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Atelier" in page
    usage = client.get("/console/organizations/acme?lang=xx", headers={"Accept-Language": "it"})
    assert usage.status_code == 200 and '<html lang="it">' in usage.get_data(as_text=True)
    assert "default-src 'self'" in usage.headers["Content-Security-Policy"]


def test_the_billing_rules_reference_keeps_its_anchors_and_escapes_the_rest(client):
    from tariff.api.console.reference import render
    page = client.get("/console/billing-rules").get_data(as_text=True)
    assert all(f'id="{rule}"' in page for rule in ("S1", "L3", "D16"))
    assert render('<a id="S1"></a>**S1.** <script>x</script> `code`') == (
        '<p><a id="S1"></a><strong>S1.</strong> &lt;script&gt;x&lt;/script&gt; <code>code</code></p>')


def test_every_catalog_has_every_english_key_with_the_same_placeholders():
    english = catalog("en")
    assert set(NAMES) == set(SUPPORTED)
    for lang in SUPPORTED:
        words = catalog(lang)
        assert set(words) == set(english), lang
        for key, text in english.items():
            assert isinstance(words[key], str) and words[key].strip(), (lang, key)
            assert set(re.findall(r"\{\w+\}", words[key])) == set(re.findall(r"\{\w+\}", text)), (lang, key)


def test_the_catalogs_are_plain_yaml_strings():
    from importlib import resources
    for lang in SUPPORTED:
        text = resources.files("tariff.api.console").joinpath("strings", f"{lang}.yaml").read_text(encoding="utf-8")
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in yaml.safe_load(text).items()), lang
