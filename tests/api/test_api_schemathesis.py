"""Property-based: schemathesis generates requests from /openapi.json (valid
and invalid ones) and the app must never answer with a 500, must answer in
the documented content types, shapes and status codes.

The number of examples per operation is bounded (SCHEMATHESIS_EXAMPLES,
default 30) to keep the suite within a few minutes.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from tariff.api import create_app

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))

# schemathesis needs the app when the module is collected (its lazy fixture
# form breaks on pytest 9), so the app lives in a temporary folder, removed
# at exit: collecting the suite writes nothing into the working tree.
_HOME = tempfile.mkdtemp(prefix="tariff-schemathesis-")
atexit.register(shutil.rmtree, _HOME, True)
app = create_app({"FIXTURES_DIR": "", "DECISION_LOG": "off",
                  "MAX_BATCH": 50, "STATE_DIR": os.path.join(_HOME, "state"),
                  "DATABASE_URL": f"sqlite:///{os.path.join(_HOME, 'ledger.sqlite3')}"})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error, content_type_conformance, response_schema_conformance,
                                   status_code_conformance])
