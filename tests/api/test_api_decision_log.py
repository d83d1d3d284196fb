"""The decision log: one JSON line per decision to off, stdout or a file."""
from __future__ import annotations

import json
import uuid
from datetime import datetime


def test_a_file_sink_gets_one_line_per_decision(make_app, tmp_path, request_body):
    log = tmp_path / "decisions.jsonl"
    client = make_app(DECISION_LOG=str(log)).test_client()
    single = client.post("/v1/decisions", json=request_body()).get_json()
    bad = request_body()
    bad["plan"] = "platinum"
    client.post("/v1/decisions/batch", json={"requests": [request_body("within"), bad]})
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 2  # input errors are not decisions
    first = lines[0]
    assert set(first) == {"decision_id", "time", "policy_version", "input", "result", "caller"}
    assert first["caller"] == {"key_id": None, "key_name": "local", "member": None}  # no key yet: local mode
    assert first["decision_id"] == single["decision_id"]
    uuid.UUID(first["decision_id"])
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert first["policy_version"] == single["policy_version"]
    assert first["input"] == request_body()  # amounts as sent: strings stay exact strings
    assert first["result"]["outcome"] == "block"
    assert first["result"]["reasons"][0]["code"] == "org_limit_reached"
    assert lines[1]["result"]["outcome"] == "allow"


def test_amounts_sent_as_numbers_are_logged_exactly(make_app, tmp_path):
    log = tmp_path / "decisions.jsonl"
    client = make_app(DECISION_LOG=str(log)).test_client()
    client.post("/v1/decisions", data='{"plan": "enterprise_self_serve", "as_of": "2026-04-10", "organization": '
                '{"term_start": "2026-01-01", "credit_balance": 250.10, "spend": 0.1}, "member": '
                '{"role": "member", "spend": 0.20}, "event": {"type": "usage_precheck", "product": "chat"}}',
                content_type="application/json")
    line = json.loads(log.read_text())
    assert line["input"]["organization"]["credit_balance"] == "250.10"
    assert line["input"]["member"]["spend"] == "0.20"


def test_stdout_sink(make_app, capfd, request_body):
    client = make_app(DECISION_LOG="stdout").test_client()
    client.post("/v1/decisions", json=request_body())
    out = capfd.readouterr().out.splitlines()
    assert len(out) == 1 and json.loads(out[0])["result"]["outcome"] == "block"


def test_off(make_app, capfd, request_body, tmp_path):
    client = make_app(DECISION_LOG="off").test_client()
    client.post("/v1/decisions", json=request_body())
    assert capfd.readouterr().out == ""
    assert not list(tmp_path.glob("*.jsonl"))


def test_the_sink_comes_from_the_environment(make_app, monkeypatch, tmp_path, request_body):
    log = tmp_path / "from-env.jsonl"
    monkeypatch.setenv("TARIFF_DECISION_LOG", str(log))
    from tariff.api import create_app
    app = create_app({"STATE_DIR": str(tmp_path / "s"), "FIXTURES_DIR": "",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}"})
    app.test_client().post("/v1/decisions", json=request_body())
    assert len(log.read_text().splitlines()) == 1
