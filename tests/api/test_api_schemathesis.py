"""Property-based: schemathesis generates requests from /openapi.json (valid
and invalid ones) and the app must never answer with a 500, must answer in
the documented content types, shapes and status codes.

The number of examples per operation is bounded (SCHEMATHESIS_EXAMPLES,
default 30) to keep the suite within a few minutes.
"""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from api import create_app

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))

app = create_app({"FIXTURES_DIR": "", "DECISION_LOG": "off", "API_TOKEN": None, "ADMIN_TOKEN": None,
                  "MAX_BATCH": 50})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error, content_type_conformance, response_schema_conformance,
                                   status_code_conformance])
