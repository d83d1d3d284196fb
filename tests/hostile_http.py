"""Helpers for the hostile-input tests of every HTTP edge (tests/api and
tests/ledger): send bytes exactly as given, and expect a problem naming a field.

Importable from any test folder: pytest puts tests/ on sys.path for
tests/conftest.py (the default ``prepend`` import mode).
"""
from __future__ import annotations

PROBLEM = "application/problem+json"


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
