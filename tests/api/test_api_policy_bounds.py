"""Validate and reload do bounded work (api/policy_bounds.py): body bytes,
files, YAML nodes, paths and time; beyond a bound the answer is a problem
(413 or 422) naming what is at fault, never a 500 or a worker timeout."""
from __future__ import annotations

import pytest

VALIDATE, RELOAD = "/v1/policies/validate", "/v1/policies/reload"
PROBLEM = "application/problem+json"


def flat(keys: int) -> str:
    return "".join(f"k{i}: {i}\n" for i in range(keys))


@pytest.mark.parametrize("files, path", [
    ({"rules/a.yaml": "rules: []\n", "rules/a.yaml/b.yaml": "rules: []\n"}, "rules/a.yaml"),
    ({"plans/seat_based.yaml/x.yaml": "rules: []\n"}, "plans/seat_based.yaml/x.yaml"),  # a served file
    ({"a" * 300 + ".yaml": "rules: []\n"}, "a" * 300 + ".yaml"),
    ({"a/" * 3000 + "x.yaml": "rules: []\n"}, "a/" * 3000 + "x.yaml"),
    ({"a/" * 17 + "x.yaml": "rules: []\n"}, "a/" * 17 + "x.yaml"),
])
def test_paths_that_cannot_be_files_of_a_set_are_a_422_naming_the_file(client, files, path):
    response = client.post(VALIDATE, json={"files": files})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM
    assert f"files.{path}" in response.get_json()["errors"]


def test_a_set_past_the_byte_bound_is_a_413(make_app):
    client = make_app(MAX_POLICY_BYTES=1000).test_client()
    response = client.post(VALIDATE, json={"files": {"rules/x.yaml": "# " + "x" * 1000 + "\n"}})
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert response.get_json()["code"] == "policy_too_large" and "files" in response.get_json()["errors"]


def test_the_body_bound_is_a_413_problem(make_app):
    client = make_app(MAX_CONTENT_LENGTH=10_000).test_client()
    response = client.post(VALIDATE, json={"files": {"rules/x.yaml": "x" * 20_000}})
    assert response.status_code == 413 and response.mimetype == PROBLEM


def test_a_set_past_the_node_bound_is_a_422_naming_the_file(make_app):
    client = make_app(MAX_POLICY_NODES=1000).test_client()
    response = client.post(VALIDATE, json={"files": {"rules/a.yaml": flat(100), "rules/b.yaml": flat(1000)}})
    assert response.status_code == 422
    assert response.get_json()["code"] == "policy_too_large"
    assert list(response.get_json()["errors"]) == ["files.rules/b.yaml"]


def test_the_issues_attack_is_refused_before_it_is_loaded(client):
    """528 KB of 49,000 keys cost a worker 7.5 s before these bounds."""
    response = client.post(VALIDATE, json={"files": {"rules/attack.yaml": flat(49_000)[:528_000]}})
    assert response.status_code in (413, 422) and response.get_json()["code"] == "policy_too_large"


def test_validate_past_its_deadline_is_a_422(make_app, monkeypatch):
    client = make_app(VALIDATE_TIMEOUT_S=0.05).test_client()
    import time
    from tariff.api import policy_store
    real = policy_store.check_policies

    def slow(*args, **kwargs):
        time.sleep(0.5)  # stands for a costly set: the alarm interrupts it
        return real(*args, **kwargs)
    monkeypatch.setattr(policy_store, "check_policies", slow)
    response = client.post(VALIDATE, json={"files": {}})
    assert response.status_code == 422 and response.get_json()["code"] == "policy_too_costly"
    import signal
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the alarm is disarmed
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None, signal.default_int_handler) or \
        not getattr(signal.getsignal(signal.SIGALRM), "__qualname__", "").startswith("deadline")


def test_a_60_mb_policy_file_on_reload_is_a_413_and_nothing_changes(make_app, policy_copy):
    app = make_app(POLICIES_DIR=str(policy_copy))
    client = app.test_client()
    before = client.get("/v1/policies").get_json()["version"]
    with open(policy_copy / "rules" / "huge.yaml", "wb") as huge:
        huge.truncate(60 * 1024 * 1024)  # sparse: 60 MB to stat, nothing written
    response = client.post(RELOAD)
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert response.get_json()["code"] == "policy_too_large" and "rules/huge.yaml" in response.get_json()["errors"]
    assert client.get("/v1/policies").get_json()["version"] == before


def test_a_reload_past_the_node_bound_is_a_422(make_app, policy_copy):
    client = make_app(POLICIES_DIR=str(policy_copy), MAX_POLICY_NODES=3000).test_client()
    (policy_copy / "rules" / "many.yaml").write_text(flat(2000))
    response = client.post(RELOAD)
    assert response.status_code == 422 and response.get_json()["code"] == "policy_too_large"


def test_the_shipped_set_is_well_within_the_bounds(client):
    assert client.post(VALIDATE, json={"files": {}}).status_code == 200
    assert client.post(RELOAD).status_code == 200


@pytest.mark.parametrize("scope", ["read", "service"])
def test_validate_and_reload_need_the_admin_scope(app, make_key, scope):
    secret = make_key(app, scope, organization="acme" if scope == "read" else None)
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    assert client.post(VALIDATE, json={"files": {}}, headers=headers).status_code == 403
    assert client.post(RELOAD, headers=headers).status_code == 403


def test_one_validation_at_a_time_per_server_the_next_is_a_429(app):
    """Another worker holding the lock stands for a validation in progress."""
    import fcntl
    from tariff.api.services import services
    with app.app_context():
        state = services().policies.state
    client = app.test_client()
    with open(state / "validate.lock", "a") as busy:
        fcntl.flock(busy, fcntl.LOCK_EX)
        response = client.post(VALIDATE, json={"files": {}})
        assert response.status_code == 429 and response.mimetype == PROBLEM
        assert response.get_json()["code"] == "validate_busy" and response.headers["Retry-After"] == "1"
        assert client.post("/v1/decisions", json={"plan": "seat_based"}).status_code == 422  # decisions go on
        fcntl.flock(busy, fcntl.LOCK_UN)
    assert client.post(VALIDATE, json={"files": {}}).status_code == 200
