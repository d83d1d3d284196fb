"""POST /v1/policies/reload: atomic, gated by validation and fixtures, and
seen by every worker that shares the server's state directory."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tariff.api.schemas.policies import ReloadRefusedSchema, ReloadSchema
from tariff.cli.main import main

ROOT = Path(__file__).resolve().parents[2]

URL = "/v1/policies/reload"
# No key exists in these apps: local mode, and the test client calls from
# loopback, as an admin. Keys and scopes are tested below and in test_api_auth.
ADMIN: dict = {}


@pytest.fixture
def fixture_dir(tmp_path, request_body):
    """A fixtures directory with one case the shipped set passes."""
    path = tmp_path / "fixtures"
    path.mkdir()
    write_case(path / "limits.yaml", "both limits block", request_body("at_limits"),
               {"outcome": "block", "reasons": ["org_limit_reached", "individual_limit_reached"]})
    return path


def write_case(path, name, given, expect):
    path.write_text(json.dumps({"cases": [{"name": name, "cites": ["L3"], "given": given, "expect": expect}]}))


@pytest.fixture
def admin_app(make_app, policy_copy, fixture_dir):
    return make_app(POLICIES_DIR=str(policy_copy), FIXTURES_DIR=str(fixture_dir))


def version(client):
    return client.get("/v1/policies").get_json()["version"]


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_reload_needs_the_admin_scope(admin_app, make_key):
    service = make_key(admin_app, "service")
    response = admin_app.test_client().post(URL, headers={"Authorization": f"Bearer {service}"})
    assert response.status_code == 403
    assert response.get_json()["code"] == "scope_insufficient"
    admin = make_key(admin_app, "admin")
    assert admin_app.test_client().post(URL, headers={"Authorization": f"Bearer {admin}"}).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-xx", "Basic {admin}", "Bearer {admin}x", "Bearer",
                                    "bearer  {admin_cut}", "Bearer {revoked}"])
def test_a_missing_or_wrong_key_is_a_bare_401(admin_app, make_key, header):
    from tariff.storage import keys
    admin = make_key(admin_app, "admin")
    revoked = make_key(admin_app, "admin")
    keys.revoke(admin_app.extensions["tariff.ledger"].db, revoked.split("_")[1])
    headers = {} if header is None else {"Authorization": header.format(admin=admin, admin_cut=admin[:-1],
                                                                         revoked=revoked)}
    response = admin_app.test_client().post(URL, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json() == {"code": "unauthorized", "status": 401, "title": "Unauthorized",
                                   "message": "Unauthorized"}


def test_reload_with_nothing_changed(admin_app):
    client = admin_app.test_client()
    response = client.post(URL, headers=ADMIN)
    assert response.status_code == 200
    body = response.get_json()
    ReloadSchema().load(body)
    assert body["changed"] is False and body["old_version"] == body["new_version"] == version(client)
    assert body["files"] == {"added": [], "removed": [], "modified": []}
    assert body["fixtures"]["passed"] == 1


def test_reload_serves_the_new_set_and_says_what_changed(admin_app, policy_copy):
    client = admin_app.test_client()
    old = version(client)
    edit(policy_copy / "rules" / "spend_limits.yaml", "rules:", "# reviewed\nrules:")
    # seat_based is retired with the one rule only it can fire (a rule that never fires is a lint error)
    (policy_copy / "plans" / "seat_based.yaml").unlink()
    credits = policy_copy / "rules" / "credits.yaml"
    text = credits.read_text()
    start = text.index("\n  - id: credits_not_on_self_serve_plan")
    end = text.find("\n  - id:", start + 1)
    credits.write_text(text[:start] + (text[end:] if end != -1 else "\n"))
    body = client.post(URL, headers=ADMIN).get_json()
    ReloadSchema().load(body)
    assert body["changed"] is True and body["old_version"] == old and body["new_version"] != old
    assert body["files"] == {"added": [], "removed": ["plans/seat_based.yaml"],
                             "modified": ["rules/credits.yaml", "rules/spend_limits.yaml"]}
    assert body["plans"]["removed"] == ["seat_based"] and "seat_based" not in body["plans"]["kept"]
    assert version(client) == body["new_version"]
    decision = client.post("/v1/decisions", json={"plan": "seat_based"}).get_json()
    assert decision["code"] in ("unknown_plan", "invalid_request")
    assert client.get("/readyz").get_json()["policy_version"] == body["new_version"]


def test_an_invalid_set_never_replaces_the_served_one(admin_app, policy_copy, request_body):
    client = admin_app.test_client()
    old = version(client)
    edit(policy_copy / "plans" / "seat_based.yaml", "\nusage:", "\nbogus_key: 1\nusage:")
    response = client.post(URL, headers=ADMIN)
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    ReloadRefusedSchema().load(body)
    assert body["code"] == "policy_invalid" and body["served_version"] == old
    [finding] = [f for f in body["findings"] if f["severity"] == "error"]
    assert finding["file"] == f"{policy_copy}/plans/seat_based.yaml"  # as on disk, not the snapshot
    assert finding["line"] > 1 and finding["column"] == 1
    assert version(client) == old
    assert client.post("/v1/decisions", json=request_body()).get_json()["policy_version"] == old


def test_a_set_that_fails_its_fixtures_never_replaces_the_served_one(admin_app, policy_copy, fixture_dir,
                                                                     request_body):
    client = admin_app.test_client()
    old = version(client)
    edit(policy_copy / "rules" / "spend_limits.yaml", "rules:", "# reviewed\nrules:")
    write_case(fixture_dir / "wrong.yaml", "at the limits yet allowed", request_body("at_limits"),
               {"outcome": "allow"})
    response = client.post(URL, headers=ADMIN)
    assert response.status_code == 409
    body = response.get_json()
    ReloadRefusedSchema().load(body)
    assert body["code"] == "fixtures_failed" and body["served_version"] == old
    [failure] = body["failures"]
    assert failure["id"].endswith("wrong.yaml::at the limits yet allowed")
    assert any("outcome" in p for p in failure["problems"])
    assert f"tariff test --accept {fixture_dir}" in body["message"]  # the way on, for a deliberate change
    assert version(client) == old
    (fixture_dir / "wrong.yaml").unlink()
    assert client.post(URL, headers=ADMIN).get_json()["changed"] is True


def test_a_broken_fixture_file_refuses_the_reload(admin_app, fixture_dir):
    (fixture_dir / "broken.yaml").write_text("cases: [unclosed\n")
    body = admin_app.test_client().post(URL, headers=ADMIN).get_json()
    assert body["code"] == "fixtures_failed"


def test_a_reload_reaches_every_worker(make_app, policy_copy, fixture_dir, tmp_path):
    """Two apps sharing one state directory stand for two gunicorn workers."""
    config = dict(POLICIES_DIR=str(policy_copy), FIXTURES_DIR=str(fixture_dir),
                  STATE_DIR=str(tmp_path / "shared"))
    one, two = make_app(**config).test_client(), make_app(**config).test_client()
    old = version(two)
    assert version(one) == old
    edit(policy_copy / "rules" / "spend_limits.yaml", "rules:", "# reviewed\nrules:")
    new = one.post(URL, headers=ADMIN).get_json()["new_version"]
    assert new != old
    assert version(two) == new  # on its very next request
    assert two.get("/readyz").get_json()["policy_version"] == new


def test_a_worker_started_later_serves_the_last_good_set_not_the_directory(make_app, policy_copy, fixture_dir,
                                                                           tmp_path):
    config = dict(POLICIES_DIR=str(policy_copy), FIXTURES_DIR=str(fixture_dir),
                  STATE_DIR=str(tmp_path / "shared"))
    first = make_app(**config).test_client()
    edit(policy_copy / "rules" / "spend_limits.yaml", "rules:", "# reviewed\nrules:")
    published = first.post(URL, headers=ADMIN).get_json()["new_version"]
    edit(policy_copy / "plans" / "seat_based.yaml", "\nusage:", "\nbogus_key: 1\nusage:")  # broken on disk now
    assert first.post(URL, headers=ADMIN).status_code == 409
    later = make_app(**config).test_client()  # e.g. gunicorn replacing a dead worker
    assert version(later) == published


def test_reloads_are_counted(admin_app, policy_copy):
    client = admin_app.test_client()
    client.post(URL, headers=ADMIN)
    edit(policy_copy / "plans" / "seat_based.yaml", "\nusage:", "\nbogus_key: 1\nusage:")
    client.post(URL, headers=ADMIN)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'tariff_policy_reloads_total{result="unchanged"} 1.0' in metrics
    assert 'tariff_policy_reloads_total{result="refused"} 1.0' in metrics


def test_a_refused_candidate_leaves_no_snapshot_behind(admin_app, policy_copy, tmp_path):
    sets = tmp_path / "state" / "sets"
    before = set(sets.iterdir())
    edit(policy_copy / "plans" / "seat_based.yaml", "\nusage:", "\nbogus_key: 1\nusage:")
    admin_app.test_client().post(URL, headers=ADMIN)
    admin_app.test_client().post(URL, headers=ADMIN)
    assert set(sets.iterdir()) == before


GOLDENS = sorted(p for p in (ROOT / "fixtures" / "bad_policies").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", GOLDENS, ids=[c.name for c in GOLDENS])
def test_reload_refuses_exactly_what_validate_refuses(case, admin_app, policy_copy):
    """One verdict: a set `tariff validate` fails (schema or lint errors) is
    never served; one it passes with warnings is."""
    for source in sorted(case.rglob("*")):
        if source.is_file() and source.name not in ("expected.txt", "README.md"):
            target = policy_copy / source.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    fails_validate = main(["validate", str(policy_copy), "--format", "json"]) != 0
    response = admin_app.test_client().post(URL, headers=ADMIN)
    assert response.status_code == (409 if fails_validate else 200), response.get_json()
    if fails_validate:
        assert response.get_json()["code"] == "policy_invalid"
