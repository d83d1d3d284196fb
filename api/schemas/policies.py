"""The served policy set, validation and reload."""
from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate, validates

from .common import ProblemSchema, Strict

POLICY_PATH = re.compile(r"^(?!.*(^|/)\.)[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\.ya?ml$")


class PlanSummarySchema(Strict):
    id = fields.String(required=True)
    title = fields.String(required=True)
    channels = fields.List(fields.String(), required=True)
    usage = fields.String(required=True)
    events = fields.List(fields.String(), required=True, metadata={"description": "events the plan decides"})
    rules = fields.Integer(required=True, metadata={"description": "number of rules"})


class PolicyFileSchema(Strict):
    path = fields.String(required=True, metadata={"example": "plans/seat_based.yaml"})
    sha256 = fields.String(required=True)


class PoliciesSchema(Strict):
    version = fields.String(required=True, metadata={"description": "sha256 over every file's path and hash"})
    source = fields.String(required=True, metadata={"description": "the policies directory"})
    published_at = fields.String(required=True, metadata={"format": "date-time"})
    rule_count = fields.Integer(required=True)
    plans = fields.List(fields.Nested(PlanSummarySchema), required=True)
    files = fields.List(fields.Nested(PolicyFileSchema), required=True)


class FindingSchema(Strict):
    file = fields.String(required=True)
    line = fields.Integer(required=True)
    column = fields.Integer(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(["error", "warning"]))
    code = fields.String(required=True, metadata={"example": "unknown_model"})
    message = fields.String(required=True)


class ValidateRequestSchema(Strict):
    files = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), required=True,
                        metadata={"description": "path in the set -> YAML text; null deletes the file from the "
                                  "served set", "example": {"plans/seat_based.yaml": "plan: seat_based\n..."}})
    base = fields.String(load_default="served", validate=validate.OneOf(["served", "none"]),
                         metadata={"description": "served: overlay the files on the served set; none: the files "
                                   "are the complete set"})

    @validates("files")
    def _paths(self, files, **kwargs):
        from flask import current_app
        errors = {}
        for path in files:
            if not POLICY_PATH.match(path) or ".." in path.split("/"):
                errors[path] = ["a relative path inside the set ending in .yaml or .yml"]
        from ..policy_bounds import path_problems
        for path, problems in path_problems(p for p in files if p not in errors).items():
            errors[path] = problems
        if errors:
            raise ValidationError(errors)
        most = current_app.config["MAX_VALIDATE_FILES"]
        if len(files) > most:
            raise ValidationError(f"at most {most} files")


class ValidateResponseSchema(Strict):
    valid = fields.Boolean(required=True)
    version = fields.String(required=True, allow_none=True, metadata={"description": "of the set as validated; "
                                                                      "null when it has errors"})
    base_version = fields.String(required=True, allow_none=True)
    findings = fields.List(fields.Nested(FindingSchema), required=True,
                           metadata={"description": "every error and warning, sorted by file, line, column"})


class Changes(Strict):
    added = fields.List(fields.String(), required=True)
    removed = fields.List(fields.String(), required=True)
    modified = fields.List(fields.String())
    kept = fields.List(fields.String())


class FixtureRunSchema(Strict):
    directory = fields.String(required=True, allow_none=True)
    passed = fields.Integer(required=True)
    failed = fields.Integer(required=True)


class ReloadSchema(Strict):
    changed = fields.Boolean(required=True)
    old_version = fields.String(required=True)
    new_version = fields.String(required=True)
    plans = fields.Nested(Changes, required=True)
    files = fields.Nested(Changes, required=True)
    fixtures = fields.Nested(FixtureRunSchema, required=True)


class FixtureFailureSchema(Strict):
    id = fields.String(required=True, metadata={"example": "fixtures/x.yaml::a case"})
    file = fields.String(required=True)
    line = fields.Integer(required=True)
    problems = fields.List(fields.String(), required=True)


class ReloadRefusedSchema(ProblemSchema):
    """409: the set on disk was not served; the one before stays."""
    served_version = fields.String(required=True)
    findings = fields.List(fields.Nested(FindingSchema))
    failures = fields.List(fields.Nested(FixtureFailureSchema))
