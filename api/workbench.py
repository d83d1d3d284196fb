"""The billing-staff workbench's JSON, under /v1/workbench: what the console's
workbench page shows, from the engine's public tools over the served set
(nothing here re-implements a check, an explanation or a replay).

- plans and the rules each includes, with cites and file:line;
- the rate card as a history per model;
- findings (warnings and lint) and fixture results of the served set;
- a decision explained (the engine's ``explain``, the trace's files named as
  in the policies directory); playground decisions are not logged;
- what-if: the served set with some files changed, replayed against it on
  an event file and/or the ledger's history (``Replayer``).

Each what-if registers the changed set's rulesets in the engine, which can
never free them (CONTRIBUTING.md, durable_rules item 6): a staff tool, not a
hot path. Scopes: reading the set needs ``read`` (as GET /v1/policies), the
playground ``service`` (as POST /v1/decisions), running fixtures and a
what-if (which reads every organization's history) ``admin``.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import current_app

from tariff.engine import TOKEN_CLASSES, EventsError, Replayer, check_policies, explain, money, read_events, run_fixtures

from . import policy_bounds
from .accounts.blueprint import ledger
from .auth import requires
from .blueprint import Blueprint
from .errors import ApiError
from .jsonio import json_response, read_json
from .messages import decision_json, request_language
from .policy_store import Unreadable
from .schemas.decisions import DecisionRequestSchema
from .schemas.workbench import (ExplainedSchema, FileQuerySchema, FindingsSchema, FixtureResultsSchema, PlansSchema,
                                PolicyFileTextSchema, RateCardSchema, WhatIfRequestSchema, WhatIfSchema)
from .services import services

blp = Blueprint("workbench", __name__, url_prefix="/v1/workbench",
                description="The billing-staff workbench: plans and rules, rate card history, findings, fixtures, "
                            "explained decisions, what-if replays")


def _place(location) -> dict:
    store, snapshot = services().policies, services().policies.active().snapshot
    return {"file": store.display(location.file, snapshot), "line": location.line, "column": location.column}


@blp.route("/plans", methods=["GET"])
@requires("read")
@blp.response(200, PlansSchema)
@blp.problems(401)
def plans():
    """Every plan of the served set with the rules it includes: the events each
    decides, the billing rules it cites, where it is written."""
    active = services().policies.active()
    out = []
    for plan in sorted(active.policy.plans.values(), key=lambda p: p.id):
        out.append({"id": plan.id, "title": plan.title, "channels": list(plan.channels), "usage": plan.usage,
                    "prepaid_credits": list(plan.prepaid_credits), "limit_levels": list(plan.limit_levels),
                    "seat_types": {t: list(products) for t, products in plan.seat_types.items()},
                    "renews_to": dict(plan.renews_to), "file": _place(plan.location)["file"],
                    "rules": [{"id": r.id, "on": list(r.on), "cites": list(r.cites), **_place(r.location)}
                              for r in plan.rules]})
    return {"version": active.version, "plans": out}


def _rates(rates) -> dict:
    return {c: money.fmt(rates.per_million[c]) for c in TOKEN_CLASSES}


@blp.route("/rate-card", methods=["GET"])
@requires("read")
@blp.response(200, RateCardSchema)
@blp.problems(401)
def rate_card():
    """The rate card as a history per model: each entry that priced, re-priced
    or retired it, oldest first, with every token class (USD per million)."""
    active = services().policies.active()
    history: dict = {}
    for entry in sorted(active.policy.rate_card.entries, key=lambda e: e.effective_from):
        place = _place(entry.where.location) if entry.where is not None else {"file": None, "line": None}
        common = {"effective_from": entry.effective_from.isoformat(), "file": place["file"], "line": place["line"]}
        for model in entry.retire:
            history.setdefault(model, []).append({**common, "retired": True, "per_million": None,
                                                  "long_context": None})
        for model, rates in entry.models.items():
            long = None
            if rates.long_context is not None:
                long = {**_rates(rates.long_context), "above_prompt_tokens": str(rates.above_prompt_tokens)}
            history.setdefault(model, []).append({**common, "retired": False, "per_million": _rates(rates.base),
                                                  "long_context": long})
    return {"version": active.version, "token_classes": list(TOKEN_CLASSES),
            "models": [{"model": m, "history": history[m]} for m in sorted(history)]}


@blp.route("/file", methods=["GET"])
@requires("read")
@blp.arguments(FileQuerySchema, location="query", as_kwargs=True)
@blp.response(200, PolicyFileTextSchema)
@blp.problems(401, 404, 422)
def policy_file(path: str):
    """One file of the served set as it is served (the starting point of a what-if)."""
    snapshot = Path(services().policies.active().snapshot)
    target = snapshot / path
    if ".." in Path(path).parts or not target.is_file():
        raise ApiError(404, "not_found", f"no file {path} in the served set")
    return {"path": path, "text": target.read_text(encoding="utf-8", errors="replace")}


@blp.route("/findings", methods=["GET"])
@requires("read")
@blp.response(200, FindingsSchema)
@blp.problems(401)
def findings():
    """The served set's warnings and lint findings, each with file:line:col
    (a served set has no errors: it passed validation to be served)."""
    store = services().policies
    active = store.active()
    verdict = check_policies(active.snapshot)
    return {"version": active.version, "findings": [store.display_finding(f) for f in verdict.findings]}


@blp.route("/fixtures", methods=["POST"])
@requires("admin")
@blp.response(200, FixtureResultsSchema)
@blp.problems(401)
def fixtures():
    """Run the fixtures (the server's fixtures directory) against the served
    set now: the count passed and every failing case with its file and line."""
    store = services().policies
    active = store.active()
    if not store.fixtures:
        return {"version": active.version, "directory": None, "passed": 0, "failed": []}
    report = run_fixtures(active.evaluator, [store.fixtures])
    failed = [{"id": str(f.location.file), "file": f.location.file, "line": f.location.line,
               "problems": [f"{f.code}: {f.message}"]} for f in report.broken]
    failed += [{"id": r.case.id, "file": r.case.file, "line": r.case.line, "problems": list(r.problems)}
               for r in report.failed]
    return {"version": active.version, "directory": store.fixtures, "passed": report.passed, "failed": failed}


@blp.route("/explain", methods=["POST"])
@requires("service")
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": DecisionRequestSchema}}})
@blp.response(200, ExplainedSchema)
@blp.problems(400, 401, 413, 415, 422)
def explain_decision():
    """The playground: decide one request under the served set, as
    POST /v1/decisions?explain=true does (messages in Accept-Language's
    language), with the staff's plain-English explanation. Not logged."""
    store, lang = services().policies, request_language()
    active = store.active()
    decision = active.evaluator.decide(read_json())
    plain = decision.to_dict(explain=True)
    for step in plain["trace"]:
        step["file"] = store.display(step["file"], active.snapshot)
    body = {"decision_id": None, **decision_json(decision, lang, plain=plain)}
    return json_response({"decision": body, "explanation": explain(decision, active.policy)}, lang=lang)


@blp.route("/what-if", methods=["POST"])
@requires("admin")
@blp.arguments(WhatIfRequestSchema)
@blp.response(200, WhatIfSchema)
@blp.problems(400, 401, 413, 415, 422)
def what_if(body: dict):
    """Replay under the served set and under the served set with `files`
    changed (`null` deletes one; `base: none`: the files are the whole set):
    the events of `events` (an uploaded file's text) and, with `ledger`, the
    ledger's history; the money difference per organization and plan, members
    newly blocked or unblocked, notifications and transitions changed. A
    changed set with errors answers `valid: false` with its findings. The
    files are bounded as in POST /v1/policies/validate. Needs the admin scope."""
    if body["events"] is None and not body["ledger"]:
        raise ApiError(422, "invalid_request", "give events, ledger, or both",
                       errors={"events": ["an event file's text, or set ledger to true"]})
    config = current_app.config
    policy_bounds.check_files(body["files"], config["MAX_POLICY_BYTES"], config["MAX_POLICY_NODES"])  # as validate
    store = services().policies
    active = store.active()
    root = Path(tempfile.mkdtemp(prefix="tariff-what-if-"))
    try:
        changed = _overlay(root / "set", active.snapshot, body["files"], body["base"])
        try:
            with policy_bounds.deadline(config["VALIDATE_TIMEOUT_S"]):
                verdict = check_policies(changed)
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:  # as validate: the loader gave up
            raise Unreadable("the files could not be read as a policy set") from exc
        shown = [_relative(f.to_dict(), changed) for f in verdict.findings]
        if verdict.errors or verdict.policy is None:
            return {"valid": False, "findings": shown, "report": None}
        replayer = Replayer(active.policy, verdict.policy)
        if body["events"] is not None:
            suffix = ".yaml" if body["events_format"] == "yaml" else ".jsonl"
            events = root / f"events{suffix}"
            events.write_text(body["events"], encoding="utf-8", errors="surrogatepass")
            try:
                for payload in read_events(events):
                    replayer.add(payload)
            except (EventsError, RecursionError) as exc:  # RecursionError: JSON nested past Python's limit
                message = str(exc).replace(str(events), "events") if isinstance(exc, EventsError) else \
                    "an event nests too deeply"
                raise ApiError(422, "invalid_events", message, errors={"events": [message]}) from None
        if body["ledger"]:
            from tariff.storage.history import recorded_requests
            for payload in recorded_requests(ledger().db, body["organization"]):
                replayer.add(payload)
        report = replayer.report.to_dict()
        report["old"]["policies"] = store.source
        report["new"]["policies"] = f"{store.source} (changed)"
        return {"valid": True, "findings": shown, "report": report}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _overlay(target: Path, snapshot: str, files: dict, base: str) -> Path:
    if base == "served":
        shutil.copytree(snapshot, target)
    target.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = target / rel
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return target


def _relative(finding: dict, root: Path) -> dict:
    prefix = str(root) + "/"
    finding["file"] = finding["file"][len(prefix):] if finding["file"].startswith(prefix) else "."
    return finding

