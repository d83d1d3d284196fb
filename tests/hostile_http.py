"""Helpers for the tests of the HTTP edges (tests/api and tests/ledger): for
hostile input, send bytes exactly as given and expect a problem naming a
field; for the accounts endpoints, the organizations they start from.

Importable from any test folder: pytest puts tests/ on sys.path for
tests/conftest.py (the default ``prepend`` import mode).
"""
from __future__ import annotations

from datetime import date

from tariff.engine.periods import add_months, period_start

PROBLEM = "application/problem+json"
TODAY = date.today()
TERM = add_months(period_start(TODAY), -2)  # always mid-term, whatever day the tests run


def raw(client, url: str, text: str, **headers):
    """POST ``text`` as it is, lone surrogates included (no JSON encoder in between)."""
    return client.post(url, data=text.encode("utf-8", "surrogatepass"), content_type="application/json",
                       headers=headers)


def problem(response, status: int, field: str) -> dict:
    """The response is a problem+json of ``status`` whose ``errors`` name ``field``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert field in body["errors"], body
    return body


# -- organizations over HTTP ---------------------------------------------------------------

def org_body(**overrides) -> dict:
    """The body that creates acme (pat its primary owner) mid-term, with ``overrides``."""
    return {"id": "acme", "name": "Acme", "plan": "enterprise_self_serve", "term_start": TERM.isoformat(),
            "seats": {"enterprise": 4}, "primary_owner": {"id": "pat", "email": "pat@example.com"}} | overrides


def acme_and_globex(client) -> None:
    """Creates acme (pat its primary owner, ana a member) and globex (gil its primary owner)
    through ``client`` (a Flask test client, in local mode: no key yet)."""
    for org, owner in (("acme", "pat"), ("globex", "gil")):
        made = client.post("/v1/organizations", json=org_body(id=org, name=org.title(), primary_owner={"id": owner}))
        assert made.status_code == 201, made.get_json()
    added = client.post("/v1/organizations/acme/members", json={"actor": "pat", "id": "ana"})
    assert added.status_code == 201, added.get_json()
