"""Property-based: schemathesis generates requests from /openapi.json (valid
and invalid ones) and the app must never answer with a 500, must answer in
the documented content types, shapes and status codes.

Then issue 9's classes of hostile input: on a second schema over the same
app, a hook puts one hostile value, drawn from a hypothesis strategy per
class, at a field it picks anywhere in the body (nested objects and lists
too), or in a query or path parameter; never a 500. A new endpoint is in the
document, so it is covered the day it is added. The classes: lone
surrogates, NUL, integers past int64, decimal exponents out of range, days
out of the supported range, non-ASCII digits, spaces around amounts, null.
(Duplicate JSON keys and deep nesting cannot be produced by a generator that
builds Python values: test_api_hostile_everywhere.py sends them as raw bytes
to every operation; a null batch item is in test_api_hostile_input.py.)

The number of examples per operation is bounded (SCHEMATHESIS_EXAMPLES,
default 30) to keep the suite within a few minutes.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from datetime import date

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
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
hostile = schemathesis.openapi.from_wsgi("/openapi.json", app)  # with the hooks below, its own


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error, content_type_conformance, response_schema_conformance,
                                   status_code_conformance])


# -- issue 9's hostile classes, anywhere --------------------------------------------------

DIGITS = "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\uff10\uff11\uff12\u0966\u0967"
HOSTILE = {
    "lone_surrogate": st.text(max_size=4).map(lambda s: s + "\ud800"),
    "nul": st.text(max_size=4).map(lambda s: s + "\x00" + s),
    "int_past_int64": st.integers(min_value=2 ** 63) | st.integers(max_value=-(2 ** 63) - 1),
    "exponent": st.sampled_from(["1E+999999999", "1e-999999999", "-1E+400", "9E+18", "1E-10"]),
    "day_out_of_range": st.dates(max_value=date(1999, 12, 31)).map(date.isoformat)
    | st.dates(min_value=date(3000, 1, 1)).map(date.isoformat),
    "non_ascii_digits": st.text(alphabet=DIGITS, min_size=1, max_size=6),
    "spaces": st.integers(min_value=0, max_value=10 ** 6).map(lambda n: f" {n} "),
    "null": st.none(),
}
ANY_HOSTILE = st.one_of(*HOSTILE.values())
# A URL cannot carry a lone surrogate as text (its UTF-8 bytes are sent raw by
# test_api_hostile_everywhere.py); everything else goes in queries too.
URL_HOSTILE = st.one_of(*(s for name, s in HOSTILE.items() if name != "lone_surrogate"))

def _places(value, path=()):
    """Every place in a JSON value a hostile value can go: each key and list item, at any depth."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:5]):
            yield from _places(inner, (*path, index))


def _put(value, path, bad):
    if not path:
        return bad
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _put(value[head], rest, bad)}
    copy = list(value)
    copy[head] = _put(copy[head], rest, bad)
    return copy


def _somewhere(value):
    places = [p for p in _places(value) if p] or [()]
    return st.tuples(st.sampled_from(places), ANY_HOSTILE).map(lambda pair: _put(value, *pair))


@hostile.hook
def flatmap_body(context, body):
    if not isinstance(body, (dict, list)):
        return st.just(body)
    return _somewhere(body)


@hostile.hook
def flatmap_query(context, query):
    if not query:
        return st.just(query)
    return st.tuples(st.sampled_from(sorted(query)), URL_HOSTILE).map(
        lambda pair: {**query, pair[0]: pair[1]})


@hostile.hook
def flatmap_path_parameters(context, parameters):
    if not parameters:
        return st.just(parameters)
    text = HOSTILE["nul"] | HOSTILE["non_ascii_digits"] | HOSTILE["day_out_of_range"] | HOSTILE["spaces"] \
        | HOSTILE["int_past_int64"].map(str) | HOSTILE["exponent"]
    return st.tuples(st.sampled_from(sorted(parameters)), text).map(
        lambda pair: {**parameters, pair[0]: pair[1]})


@hostile.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_a_hostile_value_anywhere_never_gets_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])
