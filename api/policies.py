"""GET /v1/policies, POST /v1/policies/validate, POST /v1/policies/reload."""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import yaml
from tariff.engine import check_policies

from .auth import admin_token_required, api_token_required
from .blueprint import Blueprint
from .errors import ApiError
from .policy_store import Refused
from .schemas.policies import (PoliciesSchema, ReloadRefusedSchema, ReloadSchema, ValidateRequestSchema,
                               ValidateResponseSchema)
from .services import services

blp = Blueprint("policies", __name__, url_prefix="/v1/policies", description="The policy set")
log = logging.getLogger("tariff.api")


def _plans(policy) -> list[dict]:
    return [{"id": p.id, "title": p.title, "channels": list(p.channels), "usage": p.usage,
             "events": list(p.events), "rules": len(p.rules)} for p in sorted(policy.plans.values(),
                                                                                 key=lambda p: p.id)]


@blp.route("", methods=["GET"])
@api_token_required
@blp.response(200, PoliciesSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def show():
    """The served policy set: plans with their rule counts, source files with
    their sha256, and the set's version (a hash over all of them)."""
    store = services().policies
    active = store.active()
    policy = active.policy
    return {"version": active.version, "source": store.source, "published_at": active.published_at,
            "rule_count": sum(len(p.rules) for p in policy.plans.values()), "plans": _plans(policy),
            "files": [{"path": path, "sha256": digest} for path, digest in sorted(policy.files.items())]}


@blp.route("/validate", methods=["POST"])
@api_token_required
@blp.arguments(ValidateRequestSchema)
@blp.response(200, ValidateResponseSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def validate(body: dict):
    """Check policy files without serving them: every finding with its file,
    line and column. The files are laid over the served set (`base: served`,
    the default; `null` deletes a file) or form the whole set (`base: none`).
    Nothing is evaluated or registered; fixtures are not run (reload runs them).
    A set with errors is a 200 with `valid: false`."""
    store = services().policies
    active = store.active()
    root = Path(tempfile.mkdtemp(prefix="tariff-validate-"))
    try:
        if body["base"] == "served":
            shutil.copytree(active.snapshot, root, dirs_exist_ok=True)
        for rel, text in body["files"].items():
            target = root / rel
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", errors="surrogatepass")
        prefix = str(root) + "/"

        def shown(finding) -> dict:
            out = finding.to_dict()
            out["file"] = out["file"][len(prefix):] if out["file"].startswith(prefix) else "."
            return out

        try:
            verdict = check_policies(root)  # the same verdict as `tariff validate`
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:
            log.exception("the policy loader failed on submitted files")
            raise ApiError(422, "policy_unreadable", "the files could not be read as a policy set") from exc
        return {"valid": verdict.valid, "version": verdict.policy.version if verdict.policy else None,
                "base_version": _base(body, active), "findings": [shown(f) for f in verdict.findings]}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _base(body, active):
    return active.version if body["base"] == "served" else None


def _diff(old: dict, new: dict, modified: bool) -> dict:
    out = {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new))}
    both = sorted(set(old) & set(new))
    if modified:
        out["modified"] = [k for k in both if old[k] != new[k]]
    else:
        out["kept"] = both
    return out


@blp.route("/reload", methods=["POST"])
@admin_token_required
@blp.response(200, ReloadSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, schema=ReloadRefusedSchema, content_type="application/problem+json",
                  description="the set on disk failed validation or its fixtures; the served set is unchanged")
def reload():
    """Reload the policies directory, atomically, in every worker.

    The directory is copied to a snapshot, validated, and run against the
    fixtures; only then does it replace the served set (in this worker now,
    in the others on their next request). A refused set changes nothing:
    409 with the findings or failing fixture cases. Needs the admin token
    (TARIFF_ADMIN_TOKEN); with none configured reload is disabled (403).
    """
    svc = services()
    store = svc.policies
    try:
        outcome = store.reload()
    except Refused as refused:
        svc.metrics.reloads.labels("refused").inc()
        extra = {"findings": refused.findings} if refused.code == "policy_invalid" else \
            {"failures": refused.failures}
        raise ApiError(409, refused.code, f"{refused.message}; still serving {store.active().version}",
                       served_version=store.active().version, **extra) from None
    old, new = outcome.old, outcome.new
    svc.metrics.reloads.labels("changed" if outcome.changed else "unchanged").inc()
    return {"changed": outcome.changed, "old_version": old.version, "new_version": new.version,
            "plans": _diff(old.policy.plans, new.policy.plans, modified=False),
            "files": _diff(old.policy.files, new.policy.files, modified=True),
            "fixtures": outcome.fixtures}
