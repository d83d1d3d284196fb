"""GET /v1/policies, POST /v1/policies/validate, POST /v1/policies/reload."""
from __future__ import annotations

from flask import current_app

from . import policy_bounds
from .auth import requires
from .blueprint import Blueprint
from .schemas.policies import (PoliciesSchema, ReloadRefusedSchema, ReloadSchema, ValidateRequestSchema,
                               ValidateResponseSchema)
from .services import services

blp = Blueprint("policies", __name__, url_prefix="/v1/policies", description="The policy set")


def _plans(policy) -> list[dict]:
    return [{"id": p.id, "title": p.title, "channels": list(p.channels), "usage": p.usage,
             "events": list(p.events), "rules": len(p.rules)} for p in sorted(policy.plans.values(),
                                                                                 key=lambda p: p.id)]


@blp.route("", methods=["GET"])
@requires("read")
@blp.response(200, PoliciesSchema)
@blp.problems(401)
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
@requires("admin")
@blp.arguments(ValidateRequestSchema)
@blp.response(200, ValidateResponseSchema)
@blp.problems(400, 401, 403, 413, 415, 422, 429)
def validate(body: dict):
    """Check policy files without serving them: every finding with its file,
    line and column. The files are laid over the served set (`base: served`,
    the default; `null` deletes a file) or form the whole set (`base: none`).
    Nothing is evaluated or registered; fixtures are not run (reload runs them).
    A set with errors is a 200 with `valid: false`. Bounded: MAX_POLICY_BYTES
    of text (413), MAX_VALIDATE_FILES files, MAX_POLICY_NODES YAML nodes,
    path parts of 255 bytes, 16 deep (422), VALIDATE_TIMEOUT_S seconds (422
    `policy_too_costly`), one validation at a time per server (429
    `validate_busy`, Retry-After: the other workers stay free to decide)."""
    config = current_app.config
    policy_bounds.check_files(body["files"], config["MAX_POLICY_BYTES"], config["MAX_POLICY_NODES"])
    store = services().policies
    with policy_bounds.one_at_a_time(store.state), policy_bounds.deadline(config["VALIDATE_TIMEOUT_S"]):
        return store.validate(body["files"], body["base"])


def _diff(old: dict, new: dict, modified: bool) -> dict:
    out = {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new))}
    both = sorted(set(old) & set(new))
    if modified:
        out["modified"] = [k for k in both if old[k] != new[k]]
    else:
        out["kept"] = both
    return out


@blp.route("/reload", methods=["POST"])
@requires("admin")
@blp.response(200, ReloadSchema)
@blp.problems(401, 403, 413, 422, with_schema={409: (ReloadRefusedSchema, "the set on disk failed validation or its "
                                                                "fixtures; the served set is unchanged")})
def reload():
    """Reload the policies directory, atomically, in every worker.

    The directory is copied to a snapshot, validated, and run against the
    fixtures; only then does it replace the served set (in this worker now,
    in the others on their next request). A refused set changes nothing:
    409 with the findings or failing fixture cases. A set beyond the bounds
    (MAX_POLICY_BYTES: 413; MAX_POLICY_FILES, MAX_POLICY_NODES: 422) is
    refused before any of it is loaded.
    """
    config = current_app.config

    def bounds(snapshot):
        policy_bounds.check_directory(snapshot, config["MAX_POLICY_BYTES"], config["MAX_POLICY_FILES"],
                                      config["MAX_POLICY_NODES"])
    outcome = services().policies.reload(bounds)
    old, new = outcome.old, outcome.new
    return {"changed": outcome.changed, "old_version": old.version, "new_version": new.version,
            "plans": _diff(old.policy.plans, new.policy.plans, modified=False),
            "files": _diff(old.policy.files, new.policy.files, modified=True),
            "fixtures": outcome.fixtures}
