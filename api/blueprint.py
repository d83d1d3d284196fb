"""flask-smorest with tariff's JSON and errors: use ``api.blueprint.Blueprint``
for every blueprint so that bodies parse with Decimal numbers and invalid
arguments become the one problem+json shape.
"""
from __future__ import annotations

import flask_smorest
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from webargs.flaskparser import FlaskParser

from .errors import PROBLEM, ApiError, from_webargs


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 422
    # Every location follows its schema's `unknown` (RAISE): a mistyped query
    # parameter (?explian=true) is an error, as a mistyped body field is.
    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def _raw_load_json(self, req):
        from .jsonio import read_json
        if not req.get_data(cache=True) and not req.mimetype:
            return {}  # no body at all: let the schema say what is missing
        return read_json()

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise ApiError(error_status_code or 422, "invalid_request", "the request is not valid",
                       errors=from_webargs(error.messages))


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *args, **kwargs):
        # webargs makes a new schema per request from a class: make it once.
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


def schema_name(schema) -> str:
    """Component names: the class name without "Schema"; the engine's schemas
    (the parts of a decision request) are prefixed "Request" so they cannot
    clash with other blueprints', wherever inside the engine they are defined."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    return f"Request{name}" if cls.__module__.startswith("tariff.engine.") else name


class Api(flask_smorest.Api):
    """Error responses are documented as application/problem+json."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # each view lists the errors it can give

    def _init_spec(self, **kwargs):
        from .schemas.decisions import document_fields
        kwargs.setdefault("marshmallow_plugin", MarshmallowPlugin(schema_name_resolver=schema_name))
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(document_fields)

    def _register_responses(self):
        from http import HTTPStatus
        for status in HTTPStatus:
            if status < 400:
                continue
            self.spec.components.response(status.name, {
                "description": status.phrase,
                "content": {PROBLEM: {"schema": self.ERROR_SCHEMA}},
            }, lazy=True)
