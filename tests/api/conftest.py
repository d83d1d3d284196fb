"""Apps built by the factory with a test config: a private state directory,
no decision log, no tokens unless a test asks for them, and no fixture gate
(the tests of reload give their own fixtures; the shipped fixtures are the
engine's tests, not these)."""
from __future__ import annotations

import copy
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tariff.api import create_app

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
FIXTURES = ROOT / "fixtures"

# A member of a self-serve Enterprise organization at both limits: a block
# with two reasons, three ways to resume and a binding limit.
AT_LIMITS = {
    "plan": "enterprise_self_serve",
    "as_of": "2026-04-10",
    "organization": {"term_start": "2026-01-01", "credit_balance": "250.00", "spend": "1000.00", "limit": "1000"},
    "member": {"id": "m-ana", "role": "member", "spend": "50.00", "limit": "50"},
    "event": {"type": "usage_precheck", "product": "chat"},
}
# The same organization, well within its limits: allowed.
WITHIN = {
    **AT_LIMITS,
    "organization": {"term_start": "2026-01-01", "credit_balance": "250.00", "spend": "10.00", "limit": "1000"},
    "member": {"id": "m-ana", "role": "member", "spend": "5.00", "limit": "50"},
}


@pytest.fixture
def request_body():
    """A fresh copy of a request: ``request_body("at_limits")``."""
    return lambda name="at_limits": copy.deepcopy({"at_limits": AT_LIMITS, "within": WITHIN}[name])


@pytest.fixture
def make_app(tmp_path):
    made = []

    def make(**config):
        settings = {"POLICIES_DIR": str(POLICIES), "FIXTURES_DIR": "",
                    "STATE_DIR": str(tmp_path / "state"), "DECISION_LOG": "off",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}", **config}
        app = create_app(settings)
        made.append(app)
        return app
    return make


@pytest.fixture
def make_key():
    """``make_key(app, "service", organization="acme")``: a new key in the
    app's database; returns its secret."""
    from tariff.storage import keys

    def make(app, scope="admin", organization=None, name=None):
        return keys.create(app.extensions["tariff.ledger"].db, scope, organization, name)[1]
    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def policy_copy(tmp_path):
    """A private, editable copy of the shipped policies."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def _post_json(client, url, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, default=str)
    return client.post(url, data=data, content_type="application/json", **kwargs)


def _loads(response):
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


@pytest.fixture
def post_json():
    """``post_json(client, url, body, headers=...)``: body as JSON text."""
    return _post_json


@pytest.fixture
def loads():
    """A response body parsed with exact decimals."""
    return _loads
