"""GET /v1/policies, POST /v1/policies/validate."""
from __future__ import annotations

import hashlib

import pytest

from tariff.api.schemas.policies import PoliciesSchema, ValidateResponseSchema

VALIDATE = "/v1/policies/validate"


def test_the_served_set(app, client, loads):
    response = client.get("/v1/policies")
    assert response.status_code == 200
    body = loads(response)
    PoliciesSchema().load(body)
    assert body["version"] == app.extensions["tariff"].policies.active().version
    assert body["source"] == app.config["POLICIES_DIR"]
    plans = {p["id"]: p for p in body["plans"]}
    assert {"enterprise_self_serve", "enterprise_sales_assisted", "legacy_chat_code", "seat_based"} <= set(plans)
    assert all(p["rules"] > 0 and p["events"] for p in plans.values())
    assert body["rule_count"] == sum(p["rules"] for p in plans.values())
    files = {f["path"]: f["sha256"] for f in body["files"]}
    assert "vocabulary.yaml" in files
    root = app.config["POLICIES_DIR"]
    for path, digest in files.items():
        assert hashlib.sha256(open(f"{root}/{path}", "rb").read()).hexdigest() == digest
    assert body["version"] == hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files.items()))
                                              .encode()).hexdigest()


def test_validate_the_served_set_unchanged(client, post_json, loads):
    body = loads(post_json(client, VALIDATE, {"files": {}}))
    ValidateResponseSchema().load(body)
    assert body["valid"] is True
    assert body["version"] == body["base_version"] == client.get("/v1/policies").get_json()["version"]


def test_validate_an_edit_laid_over_the_served_set(client, post_json, loads, policy_copy):
    text = (policy_copy / "rules" / "spend_limits.yaml").read_text() + "\n# reviewed\n"
    body = loads(post_json(client, VALIDATE, {"files": {"rules/spend_limits.yaml": text}}))
    assert body["valid"] is True
    assert body["version"] != body["base_version"]


def test_validate_reports_every_finding_with_its_place(client, post_json, loads, policy_copy):
    files = {}
    for rel in ("plans/seat_based.yaml", "plans/legacy_chat_code.yaml"):
        text = (policy_copy / rel).read_text()
        files[rel] = text.replace("\nusage:", "\nbogus_key: 1\nusage:", 1)
        assert files[rel] != text
    body = loads(post_json(client, VALIDATE, {"files": files}))
    ValidateResponseSchema().load(body)
    assert body["valid"] is False and body["version"] is None
    errors = [f for f in body["findings"] if f["severity"] == "error"]
    assert {f["file"] for f in errors} == set(files)  # all problems at once, every file
    for f in errors:
        assert f["code"] and f["message"]
        assert files[f["file"]].splitlines()[f["line"] - 1][f["column"] - 1:].startswith("bogus_key")
    assert body["findings"] == sorted(body["findings"], key=lambda f: (f["file"], f["line"], f["column"]))


def test_validate_a_yaml_syntax_error(client, post_json, loads):
    body = loads(post_json(client, VALIDATE, {"files": {"plans/new.yaml": "plan: [unclosed\n"}}))
    assert body["valid"] is False
    assert body["findings"][0]["file"] == "plans/new.yaml"


def test_validate_a_deletion(client, post_json, loads):
    body = loads(post_json(client, VALIDATE, {"files": {"vocabulary.yaml": None}}))
    assert body["valid"] is False
    assert any(f["code"] == "vocabulary" for f in body["findings"])


def test_validate_a_complete_set(client, post_json, loads, policy_copy):
    files = {str(p.relative_to(policy_copy)): p.read_text() for p in policy_copy.rglob("*.yaml")}
    body = loads(post_json(client, VALIDATE, {"files": files, "base": "none"}))
    assert body["valid"] is True and body["base_version"] is None
    assert body["version"] == client.get("/v1/policies").get_json()["version"]
    body = loads(post_json(client, VALIDATE, {"files": {"plans/x.yaml": "plan: x\n"}, "base": "none"}))
    assert body["valid"] is False


def test_validate_does_not_change_what_is_served(client, post_json):
    before = client.get("/v1/policies").get_json()["version"]
    post_json(client, VALIDATE, {"files": {"vocabulary.yaml": "reasons: {}\n"}})
    assert client.get("/v1/policies").get_json()["version"] == before


def test_validate_text_that_is_not_unicode_is_refused_naming_the_file(client, post_json):
    """A lone surrogate is not text: the edge refuses it (400) before any YAML is read."""
    response = post_json(client, VALIDATE, {"files": {"plans/x.yaml": "plan: \ud800\n"}})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["files.plans/x.yaml"]


@pytest.mark.parametrize("path", ["../escape.yaml", "/etc/x.yaml", "plans/x.txt", ".hidden/x.yaml",
                                  "plans/../../x.yaml", "plans//x.yaml", "plans/.x.yaml", ""])
def test_validate_refuses_paths_outside_the_set(client, post_json, path):
    response = post_json(client, VALIDATE, {"files": {path: "plan: x\n"}})
    assert response.status_code == 422
    assert f"files.{path}" in response.get_json()["errors"]


@pytest.mark.parametrize("body, field", [({}, "files"), ({"files": [], }, "files"),
                                         ({"files": {"a.yaml": 3}}, "files.a.yaml.value"),
                                         ({"files": {}, "base": "other"}, "base"),
                                         ({"files": {}, "extra": True}, "extra")])
def test_validate_request_errors(client, post_json, body, field):
    response = post_json(client, VALIDATE, body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()


def test_validate_at_most_max_files(make_app, post_json):
    client = make_app(MAX_VALIDATE_FILES=2).test_client()
    files = {f"rules/r{i}.yaml": "rules: []\n" for i in range(3)}
    response = post_json(client, VALIDATE, {"files": files})
    assert response.status_code == 422
    assert "files" in response.get_json()["errors"]


def billion_laughs(levels: int) -> str:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_validate_refuses_a_yaml_alias_bomb_quickly(client, post_json, loads):
    body = loads(post_json(client, VALIDATE, {"files": {"plans/bomb.yaml": billion_laughs(9)}}))
    assert body["valid"] is False
    assert body["findings"] == [{"file": "plans/bomb.yaml", "line": 1, "column": 1, "severity": "error",
                                 "code": "too_large",
                                 "message": "expands to more than 100000 values (YAML aliases?)"}]


def test_validate_still_reads_ordinary_aliases(client, post_json, loads, policy_copy):
    # the shipped rate card uses anchors and aliases
    text = (policy_copy / "rate_card.yaml").read_text()
    assert "&" in text
    body = loads(post_json(client, VALIDATE, {"files": {"rate_card.yaml": text + "\n# same\n"}}))
    assert body["valid"] is True


def test_validate_a_recursive_alias_is_not_a_500(client, post_json):
    response = post_json(client, VALIDATE, {"files": {"plans/loop.yaml": "a: &a [*a]\n"}})
    assert response.status_code in (200, 422)
