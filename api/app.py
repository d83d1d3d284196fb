"""The application factory.

    app = create_app()                       # defaults, then TARIFF_* env
    app = create_app({"DATABASE_URL": "..."})   # tests override anything

Blueprints are listed in BLUEPRINTS as "module:attribute"; adding one is one
line there. Use ``api.blueprint.Blueprint`` (Decimal JSON, problem+json
errors), raise (``api.errors`` maps every error class to its problem), and
declare each view's scope with ``api.auth.requires("admin" | "service" |
"member" | "read")`` (or ``api.auth.public``) right under ``@blp.route``.
"""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.utils import import_string

from . import auth, docs, errors
from .blueprint import Api
from .config import build
from .jsonio import DecimalJSONProvider
from .schemas.common import ProblemSchema
from .services import services

# Every blueprint the service serves, in registration order.
BLUEPRINTS = [
    "tariff.api.health:blp",
    "tariff.api.decisions:blp",
    "tariff.api.policies:blp",
    "tariff.api.accounts:blp",
    "tariff.api.webhooks:blp",
    "tariff.api.sessions:blp",
    "tariff.api.keys:blp",
    "tariff.api.audit:blp",
    "tariff.api.workbench:blp",
]


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask("tariff")
    app.json = DecimalJSONProvider(app)
    app.config.update(build(test_config))
    _logging()

    Api.ERROR_SCHEMA = ProblemSchema
    api = Api(app)
    errors.register(app)  # after Api: ours replace flask-smorest's handlers
    auth.init_app(app, api)  # the bearer scheme; /v1 views without a declared scope need admin

    from .services import Services
    app.extensions["tariff"] = Services.create(app.config)  # may raise: no set to serve

    for target in BLUEPRINTS:
        api.register_blueprint(import_string(target))
    app.register_blueprint(docs.blp)  # Swagger UI's files: not an API operation, so not in /openapi.json
    from .console import blp as console  # the pages for people (/console): not in /openapi.json either
    app.register_blueprint(console)
    app.before_request(_check_url)
    to_dict = api.spec.to_dict
    api.spec.to_dict = lambda: _document_url_checks(to_dict())
    app.after_request(_count_request)
    return app


def _check_url():
    """The path's and query's values, at the edge (engine/inputs.py): no NUL or
    lone surrogates (400), integers in int64 (422)."""
    from tariff.engine import inputs
    from .errors import ApiError
    for where, values in (("path", (request.view_args or {}).items()), ("query", request.args.items(multi=True))):
        for name, value in values:
            if isinstance(value, str):
                problem = inputs.text_problem(name) or inputs.text_problem(value)
                if problem:
                    raise ApiError(400, "bad_request", f"{where} parameter {name!r} {problem}",
                                   errors={f"{where}.{name}": [problem]})
            elif isinstance(value, int) and not 0 <= value <= inputs.INT64_MAX:
                raise ApiError(422, "invalid_request", "the request is not valid",
                               errors={f"{where}.{name}": [f"must be from 0 to {inputs.INT64_MAX}"]})


def _document_url_checks(spec: dict) -> dict:
    """Every operation with path or query parameters documents _check_url's 400 (a
    value that is not text: NUL, a lone surrogate) and 422 (an integer out of range)."""
    for item in spec.get("paths", {}).values():
        shared = item.get("parameters", [])
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if any(p.get("in") in ("path", "query") for p in [*shared, *operation.get("parameters", [])]):
                operation["responses"].setdefault("400", {"$ref": "#/components/responses/BAD_REQUEST"})
                operation["responses"].setdefault("422", {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"})
    return spec


def _count_request(response):
    """Requests by route pattern (bounded label values) and status."""
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    services().metrics.requests.labels(rule, str(response.status_code)).inc()
    return response


def _logging() -> None:
    """tariff's own log lines (reloads, unexpected errors) go to stderr, which
    gunicorn keeps as its error log, unless the host application configured
    logging itself."""
    logger = logging.getLogger("tariff")
    logger.setLevel(logging.INFO)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"))
        logger.addHandler(handler)
