"""What the accounts views share: the blueprint (every view needs the API
token when one is set), the app's ledger, how a view documents its problems,
and how a storage result with a decision is answered.

Views call ``storage.Ledger`` (one unit of work per request, decided by the
engine's active policy set) and return its answers; ledger errors are mapped
to problems in api/errors.py, like every other error.
"""
from __future__ import annotations

from flask import current_app

from tariff.storage import Ledger
from tariff.storage.idempotency import is_replay

from ..blueprint import Blueprint
from ..messages import decision_json
from .schemas import RefusalProblemSchema

EXTENSION = "tariff.ledger"

blp = Blueprint("accounts", __name__, url_prefix="/v1",
                description="Accounts and ledger: organizations, members, seats, limits, credits, usage, "
                            "invoices, notifications, billing runs")

# The problems every ledger view can answer with, and those of a view with a body.
COMMON = (401, 404, 422)
BODY = (400, 413, 415)
REFUSAL = "refused by the policy (with its decision), or another problem"


def documented(*statuses: int, body: bool = True, refusal: bool = False):
    """Document the problem responses a ledger view can give: 401/404/422
    always, the body's 400/413/415 when it takes one, the others named; with
    ``refusal``, 403 and 409 may carry the policy's decision."""
    special = {status: (RefusalProblemSchema, REFUSAL) for status in (403, 409)} if refusal else None
    return blp.problems(*COMMON, *(BODY if body else ()), *statuses, with_schema=special)


# How a view that takes an Idempotency-Key documents its answer's header.
REPLAYED = {"Idempotent-Replayed": {"schema": {"type": "string"},
                                    "description": "true: this answer repeats the first result of the same key"}}


def replayed_headers(result) -> dict | None:
    """``Idempotent-Replayed: true`` when ``result`` is a kept answer given again."""
    return {"Idempotent-Replayed": "true"} if is_replay(result) else None


def ledger() -> Ledger:
    return current_app.extensions[EXTENSION]


def answer(lang: str, result) -> dict:
    """The answer of a storage result that carries a decision (an authorization,
    a limit set), its decision rendered as everywhere (messages in ``lang``)."""
    return result.json(decision_json(result.decision, lang))
