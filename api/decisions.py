"""POST /v1/decisions and /v1/decisions/batch."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from flask import current_app

from tariff.engine import InputError

from .auth import caller_json, requires
from .blueprint import Blueprint
from .errors import ApiError, input_problem
from .jsonio import json_response, read_json
from .messages import decision_json, request_language
from .schemas.decisions import (BatchRequestSchema, BatchResponseSchema, DecisionRequestSchema, DecisionSchema,
                                ExplainQuerySchema)
from .services import services

blp = Blueprint("decisions", __name__, url_prefix="/v1/decisions", description="Billing decisions")
PROBLEMS = (400, 401, 413, 415, 422)


def _decide(svc, active, payload, explain: bool, lang: str) -> dict:
    """One decision as the API answers it; raises InputError (counted)."""
    started = time.perf_counter()
    try:
        decision = active.evaluator.decide(payload)
    except InputError as exc:
        svc.metrics.input_errors.labels(exc.code).inc()
        raise
    plain = decision.to_dict(explain=explain)
    decision_id = str(uuid.uuid4())
    if svc.log.enabled:  # the decision as the engine made it: no messages, the snapshot's file names
        svc.log.write(decision_id, datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                      active.version, payload, plain, caller_json())
    if explain:
        for step in plain["trace"]:
            step["file"] = svc.policies.display(step["file"], active.snapshot)
    body = decision_json(decision, lang, plain=plain)
    svc.metrics.record_decision(decision.plan, decision.outcome, decision.reasons, time.perf_counter() - started)
    return {"decision_id": decision_id, **body}


@blp.route("", methods=["POST"])
@requires("service")
@blp.arguments(ExplainQuerySchema, location="query", as_kwargs=True)
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": DecisionRequestSchema}}})
@blp.response(200, DecisionSchema, headers={"Content-Language": {"schema": {"type": "string"},
                                                               "description": "language of the messages"}})
@blp.problems(*PROBLEMS)
def decide(explain: bool):
    """Decide one event.

    The answer is the engine's decision (outcome, reasons, resume options,
    binding limit, charges, notifications, transition, state changes) with a
    `decision_id` and the `policy_version` that decided it. End-user
    `message`s follow Accept-Language (en, ru, id, fr, de, it; default en).
    An invalid request is a 422 problem naming each bad field; an unknown
    plan or model has the code `unknown_plan` / `unknown_model`.
    """
    svc, lang = services(), request_language()
    return json_response(_decide(svc, svc.policies.active(), read_json(), explain, lang), lang=lang)


@blp.route("/batch", methods=["POST"])
@requires("service")
@blp.arguments(ExplainQuerySchema, location="query", as_kwargs=True)
@blp.arguments(BatchRequestSchema)
@blp.response(200, BatchResponseSchema)
@blp.problems(*PROBLEMS)
def decide_batch(body: dict, explain: bool):
    """Decide many events in one request, in order, under one policy set.

    Each item gets its own result: `status` 200 with its `decision`, or 422
    with an `error` (the same problem shape a single request gets). One bad
    item never fails the others; the request itself fails (422) only when
    the envelope is wrong (no `requests`, not a list, more than MAX_BATCH).
    """
    items = body["requests"]
    limit = current_app.config["MAX_BATCH"]
    if len(items) > limit:
        raise ApiError(422, "invalid_request", "the batch is too large",
                       errors={"requests": [f"at most {limit} requests in one batch"]})
    svc, lang = services(), request_language()
    active = svc.policies.active()  # one set for the whole batch
    results = []
    for index, payload in enumerate(items):
        try:  # an item's bad input is its own result, not the request's failure
            results.append({"index": index, "status": 200,
                            "decision": _decide(svc, active, payload, explain, lang)})
        except InputError as exc:
            results.append({"index": index, "status": 422, "error": input_problem(exc)})
    return json_response({"policy_version": active.version, "results": results}, lang=lang)
