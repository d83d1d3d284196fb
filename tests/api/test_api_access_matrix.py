"""The access matrix (issue 9 item 8): EVERY operation in /openapi.json, run
by each kind of caller, gets the status its declared scope says, on SQLite
and PostgreSQL.

An operation declares its scope with ``@requires(scope)`` or ``@public``
(api/auth.py), which enforces it and writes ``x-scope`` into the document.
An operation without ``x-scope`` fails here: no endpoint can be added
outside the matrix. Expected, by the caller's scope against the operation's
(admin > service > member > read; a member session is "member"):

- public: everyone passes;
- anonymous, an unknown key, a revoked key: 401 ``unauthorized``;
- a key or session bound to another organization: 404
  ``organization_not_found`` on that organization's operations;
- too little scope: 403 ``scope_insufficient``;
- otherwise the caller passes authorization: whatever the operation then
  answers (its body is ``{}``, so mostly a 422 naming a missing field, or
  the policy's own 403 ``role_not_allowed``), never one of the above.

The member sessions of a member (ana) and of an owner (pat) pass the same
gate; what the policy then lets each do by their ledger role is tested in
tests/ledger/test_ledger_trust.py.
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from hostile_http import acme_and_globex
from tariff.api import create_app

ROOT = Path(__file__).resolve().parents[2]
RANKS = {"read": 1, "member": 2, "service": 3, "admin": 4}
METHODS = ("get", "post", "put", "patch", "delete")
# A value for each path parameter: the world's own where it has one.
PATH_VALUES = {"org_id": "acme", "member_id": "ana", "change_id": "1", "period": "2026-04", "usage_id": "1"}


def _ledger_conftest():
    """tests/ledger/conftest.py's PostgreSQL helpers (its module name is shared, so load it by path)."""
    spec = importlib.util.spec_from_file_location("tariff_ledger_conftest", ROOT / "tests" / "ledger" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _operations() -> list[tuple[str, str, dict]]:
    """Every operation of the document, read from an app built at collection (nothing in the working tree)."""
    home = tempfile.mkdtemp(prefix="tariff-matrix-")
    atexit.register(shutil.rmtree, home, True)
    app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                      "STATE_DIR": os.path.join(home, "state"),
                      "DATABASE_URL": f"sqlite:///{os.path.join(home, 'ledger.sqlite3')}"})
    spec = app.test_client().get("/openapi.json").get_json()
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
            if method in METHODS]


OPERATIONS = _operations()


# -- the databases ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres_schema():
    helpers = _ledger_conftest()
    schema = helpers.PostgresSchema()
    from tariff.storage import migrate
    migrate(schema.url)
    yield schema
    schema.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    if not os.environ.get("TARIFF_TEST_DATABASE_URL"):
        pytest.skip("TARIFF_TEST_DATABASE_URL is not set")
    return request.getfixturevalue("postgres_schema").emptied()  # tests/ledger/conftest.py's PostgresSchema


# -- the world and its callers ------------------------------------------------------------------

def bearer(secret: str | None) -> dict:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


@pytest.fixture
def world(database_url, tmp_path):
    """acme (pat, its primary owner; ana, a member) and globex; then keys:
    local mode is over. Each caller: (headers, scope or None, organization)."""
    app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                      "STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": database_url})
    client = app.test_client()
    acme_and_globex(client)

    def key(scope, organization=None, name=None):
        response = client.post("/v1/keys", json={"scope": scope, "name": name or scope,
                                                 **({"organization": organization} if organization else {})},
                               headers=bearer(admin))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    admin = None
    admin = key("admin")["secret"]  # the first key: made in local mode
    service = key("service")["secret"]
    revoked = key("service", name="gone")
    assert client.post(f"/v1/keys/{revoked['id']}/revoke", headers=bearer(admin)).status_code == 200
    spare = key("read", "globex", name="spare")  # the one a revoke in the matrix may revoke

    def session(member):
        response = client.post("/v1/organizations/acme/sessions", json={"member": member}, headers=bearer(service))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    callers = {
        "anonymous": ({}, None, None),
        "unknown key": (bearer("tk_k0123456789abcdef_" + "A" * 43), None, None),
        "revoked key": (bearer(revoked["secret"]), None, None),
        "read key": (bearer(key("read", "acme")["secret"]), "read", "acme"),
        "service key of another organization": (bearer(key("service", "globex")["secret"]), "service", "globex"),
        "service key": (bearer(service), "service", None),
        "member session of a member": (bearer(session("ana")), "member", "acme"),
        "member session of an owner": (bearer(session("pat")), "member", "acme"),
        "admin": (bearer(admin), "admin", None),
    }
    yield client, callers, {"key_id": spare["id"]}
    app.extensions["tariff.ledger"].db.dispose()  # PostgreSQL's connections go back now, not at GC


# -- the matrix ----------------------------------------------------------------------------------

def expected(op_scope: str, path: str, caller_scope: str | None, caller_org: str | None) -> tuple[int, str] | None:
    """The denial (status, code) this caller must get, or None: it passes authorization."""
    if op_scope == "public":
        return None
    if caller_scope is None:
        return 401, "unauthorized"
    if "{org_id}" in path and caller_org is not None and caller_org != PATH_VALUES["org_id"]:
        return 404, "organization_not_found"
    if RANKS[caller_scope] < RANKS[op_scope]:
        return 403, "scope_insufficient"
    return None


AUTH_DENIALS = {(401, "unauthorized"), (403, "scope_insufficient"), (404, "organization_not_found")}


def _url(path: str, extra: dict) -> str:
    import re
    return re.sub(r"\{(\w+)\}", lambda m: str(extra.get(m.group(1), PATH_VALUES.get(m.group(1), "1"))), path)


@pytest.mark.parametrize("method, path, op", OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_every_operation_answers_each_caller_as_its_scope_says(world, method, path, op):
    scope = op.get("x-scope")
    assert scope in (*RANKS, "public"), (
        f"{method.upper()} {path} declares no scope: add @requires(\"admin\"|\"service\"|\"member\"|\"read\") "
        f"or @public (api/auth.py) right under its @blp.route")
    assert op.get("security") == ([] if scope == "public" else [{"bearer": []}])
    client, callers, extra = world
    url = _url(path, extra)
    wrong = []
    for name, (headers, caller_scope, caller_org) in callers.items():
        kwargs = {"headers": headers}
        if method != "get":
            kwargs["json"] = {}
        response = getattr(client, method)(url, **kwargs)
        body = response.get_json(silent=True) or {}
        got = (response.status_code, body.get("code") if isinstance(body, dict) else None)
        want = expected(scope, path, caller_scope, caller_org)
        if want is None:
            if got in AUTH_DENIALS or response.status_code >= 500:
                wrong.append(f"{name}: expected to pass authorization, got {got}")
        elif got != want:
            wrong.append(f"{name}: expected {want}, got {got}")
        elif str(want[0]) not in op["responses"]:
            wrong.append(f"{name}: {want[0]} is not among the operation's documented responses")
    assert not wrong, f"{method.upper()} {path} (x-scope {scope}):\n  " + "\n  ".join(wrong)


def test_the_matrix_covers_every_route_the_app_serves():
    """Every /v1 URL rule is an operation of the document (a route hidden from it would escape the matrix)."""
    home = tempfile.mkdtemp(prefix="tariff-matrix-")
    try:
        app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                          "STATE_DIR": os.path.join(home, "state"),
                          "DATABASE_URL": f"sqlite:///{os.path.join(home, 'ledger.sqlite3')}"})
        import re
        documented = {(m.upper(), p) for m, p, _ in OPERATIONS}
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/v1"):
                continue
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in documented, f"{method} {path} is served but not in /openapi.json"
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_an_undeclared_v1_view_fails_closed(tmp_path):
    """A /v1 view that declared nothing needs admin (api/auth.py), and the matrix above fails for it."""
    from flask import Blueprint
    app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                      "STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": f"sqlite:///{tmp_path / 'l.sqlite3'}"})
    extra = Blueprint("undeclared", __name__)
    extra.add_url_rule("/v1/undeclared", "undeclared", lambda: {"ok": True})
    app.register_blueprint(extra)
    client = app.test_client()
    from tariff.storage import keys
    db = app.extensions["tariff.ledger"].db
    _, service = keys.create(db, "service")
    _, admin = keys.create(db, "admin")
    assert client.get("/v1/undeclared", headers=bearer(service)).status_code == 403
    assert client.get("/v1/undeclared").status_code == 401
    assert client.get("/v1/undeclared", headers=bearer(admin)).status_code == 200
    assert expected("service", "/v1/x", None, None) == (401, "unauthorized")
