"""Every class of hostile input from issue 9, sent to EVERY operation of
/openapi.json (path parameters, query parameters, each top-level body
field, the body as a whole), by an admin on a world with data, on SQLite
and PostgreSQL: never a 500, and every refusal is problem+json.

Generated from the document like the access matrix, so a new endpoint is
covered the day it is added. The classes: lone surrogates, NUL, integers
past int64, decimal exponents out of range (as numbers and as text), days
out of the supported range, non-ASCII digits, surrounding spaces, deep
nesting, null, duplicate JSON keys. (Field-by-field expectations, such as
which status names which field, are in test_api_hostile_input.py and
tests/ledger/test_ledger_hostile_input.py.)
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tariff_access_matrix", Path(__file__).with_name(
    "test_api_access_matrix.py"))
matrix = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(matrix)

OPERATIONS = [(m, p, op) for m, p, op in matrix.OPERATIONS if op.get("x-scope") != "public"]
PROBLEM = "application/problem+json"

# JSON text of each hostile value (sent as raw bytes: lone surrogates survive).
VALUES = {
    "lone_surrogate": '"\\ud800"',
    "nul": '"a\\u0000b"',
    "int_past_int64": str(2 ** 70),
    "negative_int": "-1",
    "exponent_number": "1E+999999999",
    "exponent_text": '"1E+999999999"',
    "tiny_exponent_text": '"1E-999999999"',
    "day_far_future": '"9999-12-31"',
    "day_year_one": '"0001-01-01"',
    "instant_year_one": '"0001-01-01T00:00:00Z"',
    "non_ascii_digits": '"\u0661\u0662"',
    "spaces": '" 12 "',
    "deep": "[" * 5000 + "]" * 5000,
    "null": "null",
    "huge_text": '"' + "x" * 70_000 + '"',
}
PATH_VALUES = {"nul": "a%00b", "lone_surrogate": "%ED%A0%80", "int_past_int64": str(2 ** 70),
               "day_year_one": "0000-01", "long": "a" * 300, "dots": "..", "percent": "%25"}
QUERY_VALUES = {"nul": "a\x00b", "int_past_int64": str(2 ** 70), "day_far_future": "9999-12-31",
                "day_year_one": "0000-01-01", "exponent_text": "1E+999999999", "month_zero": "0000-01",
                "negative": "-1", "non_ascii_digits": "\u0661"}


@pytest.fixture
def admin_world(world):
    client, callers, extra = world
    return client, callers["admin"][0], extra


def _body_fields(spec: dict, op: dict) -> list[str]:
    schema = ((op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")) or {}
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


def _check(response, what: str, wrong: list) -> None:
    if response.status_code >= 500:
        wrong.append(f"{what}: {response.status_code} {response.get_data(as_text=True)[:200]}")
    elif response.status_code >= 400 and response.mimetype != PROBLEM:
        wrong.append(f"{what}: {response.status_code} as {response.mimetype}")


@pytest.mark.parametrize("method, path, op", OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_no_hostile_input_gets_a_server_error(admin_world, method, path, op):
    client, headers, extra = admin_world
    spec = client.get("/openapi.json").get_json()
    url = matrix._url(path, extra)
    wrong: list[str] = []
    call = getattr(client, method)
    # path parameters, one at a time
    for name in re.findall(r"\{(\w+)\}", path):
        for label, value in PATH_VALUES.items():
            hostile = re.sub(r"\{" + name + r"\}", value, path)
            _check(call(matrix._url(hostile, extra), headers=headers), f"path {name}={label}", wrong)
    # query parameters, one at a time
    for parameter in op.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        for label, value in QUERY_VALUES.items():
            _check(call(f"{url}?{parameter['name']}={quote(value)}", headers=headers),
                   f"query {parameter['name']}={label}", wrong)
    if method != "get":
        fields = _body_fields(spec, op) or ["x"]
        raw = lambda text, **more: call(url, data=text.encode("utf-8", "surrogatepass"),  # noqa: E731
                                         content_type="application/json", headers={**headers, **more})
        for name in fields:
            for label, value in VALUES.items():
                _check(raw(f'{{"{name}": {value}}}'), f"body {name}={label}", wrong)
            _check(raw(f'{{"{name}": "a", "{name}": "b"}}'), f"body {name} twice", wrong)
        for label, text in (("deep", VALUES["deep"]), ("null", "null"), ("list", "[]"), ("number", "1"),
                            ("not_json", "{"), ("surrogate_key", '{"\\ud800": 1}')):
            _check(raw(text), f"body {label}", wrong)
        _check(raw("{}", **{"Idempotency-Key": "x" * 300}), "idempotency key too long", wrong)
    assert not wrong, f"{method.upper()} {path}:\n  " + "\n  ".join(wrong)


# the world (and its backends) are the access matrix's
world = matrix.world
database_url = matrix.database_url
postgres_schema = matrix.postgres_schema
