"""The one error map (api/errors.py): what views raise becomes its problem
there, with no view catching to translate. The rows other tests do not
reach: database failures, a policy set the loader cannot read, and a ledger
failure raised straight out of a view."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError

from tariff.storage import Conflict, DatabaseBusy, DatabaseUnavailable, InvalidInput, NotFound

PROBLEM = "application/problem+json"


def fail_with(app, monkeypatch, error: Exception) -> None:
    """Every read of an organization raises ``error``."""
    def broken(*args, **kwargs):
        raise error
    monkeypatch.setattr(app.extensions["tariff.ledger"], "get_organization", broken)


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status and response.mimetype == PROBLEM, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == code and body["status"] == status and body["title"] and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_a_busy_database_is_503_with_retry_after(app, client, monkeypatch):
    fail_with(app, monkeypatch, DatabaseBusy())
    response = client.get("/v1/organizations/acme")
    problem(response, 503, "database_busy")
    assert response.headers["Retry-After"] == "1"


def test_an_unavailable_database_is_503_and_logged(app, client, monkeypatch, caplog):
    try:
        raise DatabaseUnavailable() from OSError("disk I/O error")
    except DatabaseUnavailable as exc:
        error = exc
    fail_with(app, monkeypatch, error)
    with caplog.at_level(logging.ERROR, logger="tariff.api"):
        response = client.get("/v1/organizations/acme")
    problem(response, 503, "database_unavailable")
    assert "Retry-After" not in response.headers
    assert any(r.exc_info for r in caplog.records)


def test_any_other_database_error_is_a_500_that_shows_no_sql(app, client, monkeypatch, caplog):
    fail_with(app, monkeypatch, IntegrityError("INSERT INTO secret_table VALUES (?)", ("x",), Exception("boom")))
    with caplog.at_level(logging.ERROR, logger="tariff.api"):
        response = client.get("/v1/organizations/acme")
    body = problem(response, 500, "database_error")
    assert "secret_table" not in response.get_data(as_text=True) and set(body) == {"code", "status", "title",
                                                                                   "message"}
    assert any("secret_table" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


@pytest.mark.parametrize("error, status", [(NotFound("no such thing", "thing_not_found"), 404),
                                           (Conflict("taken", "thing_exists"), 409),
                                           (InvalidInput.field("seats", "too few", "too_few"), 422)])
def test_ledger_errors_map_by_kind(app, client, monkeypatch, error, status):
    fail_with(app, monkeypatch, error)
    body = problem(client.get("/v1/organizations/acme"), status, error.code)
    assert body["message"] == error.message
    if status == 422:
        assert body["errors"] == error.errors
    else:
        assert "errors" not in body


def test_policy_files_the_loader_cannot_read_are_422(app, client, monkeypatch, caplog):
    from tariff.api import policy_store

    def overwhelmed(root):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(policy_store, "check_policies", overwhelmed)
    with caplog.at_level(logging.ERROR, logger="tariff.api"):
        response = client.post("/v1/policies/validate", json={"files": {"rate_card.yaml": "[" * 10}})
    body = problem(response, 422, "policy_unreadable")
    assert body["message"] == "the files could not be read as a policy set"
    assert any(r.exc_info for r in caplog.records)
