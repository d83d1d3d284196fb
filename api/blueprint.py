"""flask-smorest with tariff's JSON and errors: use ``api.blueprint.Blueprint``
for every blueprint so that bodies parse with Decimal numbers and invalid
arguments become the one problem+json shape.
"""
from __future__ import annotations

from http import HTTPStatus

import flask_smorest
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from webargs.flaskparser import FlaskParser

from .errors import PROBLEM


class Parser(FlaskParser):
    """Arguments that fail their schema abort with 422 and webargs' messages;
    api/errors.py turns those into the problem with field paths."""
    DEFAULT_VALIDATION_STATUS = 422
    # Every location follows its schema's `unknown` (RAISE): a mistyped query
    # parameter (?explian=true) is an error, as a mistyped body field is.
    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def _raw_load_json(self, req):
        from .jsonio import read_json
        if not req.get_data(cache=True) and not req.mimetype:
            return {}  # no body at all: let the schema say what is missing
        return read_json()


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *args, **kwargs):
        # webargs makes a new schema per request from a class: make it once.
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def problems(self, *statuses: int, with_schema: dict | None = None):
        """Document the problem responses a view can give: each status refers
        to its problem+json response component (Api._register_responses);
        ``with_schema`` maps a status to a problem schema with more in it and
        the description that says when (a refusal's decision)."""
        def document(view):
            for status in sorted(set(statuses) | set(with_schema or {})):
                if with_schema and status in with_schema:
                    schema, description = with_schema[status]
                    view = self.alt_response(status, schema=schema, content_type=PROBLEM,
                                             description=description)(view)
                else:
                    view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view
        return document


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
        for status in HTTPStatus:
            if status < 400:
                continue
            self.spec.components.response(status.name, {
                "description": status.phrase,
                "content": {PROBLEM: {"schema": self.ERROR_SCHEMA}},
            }, lazy=True)
