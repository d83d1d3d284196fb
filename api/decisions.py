"""POST /v1/decisions and /v1/decisions/batch."""
from __future__ import annotations

import time
import uuid
from datetime import date, datetime, timezone

from tariff.engine import InputError
from flask import Response, current_app, request

from .auth import api_token_required
from .blueprint import Blueprint
from .errors import ApiError, problem_body
from .jsonio import dumps, read_json
from .messages import language, localize
from .schemas.decisions import (BatchRequestSchema, BatchResponseSchema, DecisionRequestSchema, DecisionSchema,
                                ExplainQuerySchema)
from .services import services

blp = Blueprint("decisions", __name__, url_prefix="/v1/decisions", description="Billing decisions")

ERRORS = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 413: "REQUEST_ENTITY_TOO_LARGE",
          415: "UNSUPPORTED_MEDIA_TYPE", 422: "UNPROCESSABLE_ENTITY"}


def _errors(view):
    for status, name in ERRORS.items():
        view = blp.alt_response(status, response=name)(view)
    return view


def _input_problem(exc: InputError) -> dict:
    if exc.code == "invalid_request":
        message = "the decision request is not valid"
    else:  # unknown_plan, unknown_model, unsupported_event: say which
        message = next(iter(m for msgs in exc.errors.values() for m in msgs), exc.code)
    return problem_body(422, exc.code, message, exc.errors)


def _decide(svc, active, payload, explain: bool, lang: str) -> dict:
    """One decision as the API answers it; raises InputError."""
    started = time.perf_counter()
    try:
        decision = active.evaluator.decide(payload)
    except InputError as exc:
        svc.metrics.input_errors.labels(exc.code).inc()
        raise
    result = decision.to_dict(explain=explain)
    decision_id = str(uuid.uuid4())
    if svc.log.enabled:
        svc.log.write(decision_id, datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                      active.version, payload, result)
    if explain:
        for step in result["trace"]:
            step["file"] = svc.policies.display(step["file"], active.snapshot)
    localize(decision, result, payload, active.policy, lang)
    svc.metrics.record_decision(decision.plan, decision.outcome, decision.reasons, time.perf_counter() - started)
    return {"decision_id": decision_id, **result}


def _json(body, lang: str) -> Response:
    response = current_app.response_class(dumps(body), content_type="application/json")
    response.headers["Content-Language"] = lang
    return response


@blp.route("", methods=["POST"])
@api_token_required
@blp.arguments(ExplainQuerySchema, location="query", as_kwargs=True)
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": DecisionRequestSchema}}})
@blp.response(200, DecisionSchema, headers={"Content-Language": {"schema": {"type": "string"},
                                                               "description": "language of the messages"}})
@_errors
def decide(explain: bool):
    """Decide one event.

    The answer is the engine's decision (outcome, reasons, resume options,
    binding limit, charges, notifications, transition, state changes) with a
    `decision_id` and the `policy_version` that decided it. End-user
    `message`s follow Accept-Language (en, ru, id, fr, de, it; default en).
    An invalid request is a 422 problem naming each bad field; an unknown
    plan or model has the code `unknown_plan` / `unknown_model`.
    """
    payload = read_json()
    svc = services()
    lang = language(request.headers.get("Accept-Language"))
    try:
        body = _decide(svc, svc.policies.active(), payload, explain, lang)
    except InputError as exc:
        raise ApiError(**_as_kwargs(_input_problem(exc))) from None
    return _json(body, lang)


def _as_kwargs(problem: dict) -> dict:
    return {"status": problem["status"], "code": problem["code"], "message": problem["message"],
            "errors": problem.get("errors")}


@blp.route("/batch", methods=["POST"])
@api_token_required
@blp.arguments(ExplainQuerySchema, location="query", as_kwargs=True)
@blp.arguments(BatchRequestSchema)
@blp.response(200, BatchResponseSchema)
@_errors
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
    svc = services()
    active = svc.policies.active()  # one set for the whole batch
    lang = language(request.headers.get("Accept-Language"))
    results = []
    for index, payload in enumerate(items):
        try:
            results.append({"index": index, "status": 200,
                            "decision": _decide(svc, active, payload, explain, lang)})
        except InputError as exc:
            results.append({"index": index, "status": 422, "error": _input_problem(exc)})
    return _json({"policy_version": active.version, "results": results}, lang)
