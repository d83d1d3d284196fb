"""flask-smorest with tariff's JSON and errors: use ``api.blueprint.Blueprint``
for every blueprint so that bodies parse with Decimal numbers and invalid
arguments become the one problem+json shape.
"""
from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser

from .errors import PROBLEM, ApiError, from_webargs


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 422

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


class Api(flask_smorest.Api):
    """Error responses are documented as application/problem+json."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # each view lists the errors it can give

    def _register_responses(self):
        from apispec.ext.marshmallow import resolver  # noqa: F401  (plugin is set up)
        from http import HTTPStatus
        for status in HTTPStatus:
            if status < 400:
                continue
            self.spec.components.response(status.name, {
                "description": status.phrase,
                "content": {PROBLEM: {"schema": self.ERROR_SCHEMA}},
            }, lazy=True)
