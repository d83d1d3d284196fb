"""`tariff decide` reads stdin with the edge's strict JSON (engine/inputs.py):
hostile input is a one-line JSON error on stderr and exit 1, never a traceback."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tariff.cli.main import main

POLICIES = str(Path(__file__).resolve().parents[2] / "policies")


class Stdin:
    def __init__(self, text: str):
        self.buffer = io.BytesIO(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("text, field", [
    ("[" * 100_000 + "]" * 100_000, "body"),
    ("1" * 100_000, "body"),
    ('{"plan": "team", "as_of": 1E+999999999}', "as_of"),
    ('{"plan": "team", "plan": "enterprise_self_serve"}', "plan"),
    ('{"plan": "a\\u0000b"}', "plan"),
    ('{"plan": "a\\ud800b"}', "plan"),
    ("\xff", None),
])
def test_decide_prints_a_clear_error(monkeypatch, capsys, text, field):
    monkeypatch.setattr(sys, "stdin", Stdin(text) if text != "\xff" else type("S", (), {"buffer": io.BytesIO(b"\xff")})())
    assert main(["decide", "--policies", POLICIES]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    problem = json.loads(err)
    assert problem["error"] == "invalid_json"
    if field:
        assert field in problem["errors"]
