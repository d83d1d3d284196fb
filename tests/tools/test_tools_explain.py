"""`explain(decision)`: a decision in plain words, and `tariff explain`."""
from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

from tariff.cli.main import main
from tariff.engine import Evaluator, load_policy_set
from tariff.engine.tools.explain import explain

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy_set(ROOT / "policies")
EVALUATOR = Evaluator(POLICY)

BLOCKED = {
    "plan": "enterprise_self_serve", "as_of": "2026-04-10",
    "organization": {"id": "o-acme", "credit_balance": "250", "spend": "500.00", "limit": "500"},
    "member": {"id": "m-ana", "role": "member", "spend": "12.00", "limit": "100"},
    "event": {"type": "usage_precheck", "product": "chat"},
}
CHARGED = {
    "plan": "enterprise_sales_assisted", "as_of": "2026-04-10",
    "organization": {"id": "o-acme", "spend": "390.00", "limit": "500"},
    "member": {"id": "m-ana", "role": "member", "spend": "12.00", "limit": "100"},
    "event": {"type": "usage", "product": "claude_code", "model": "claude-sonnet-4-5",
              "tokens": {"input": 120000, "output": 4000, "cache_read": 50000}},
}


def _line_of(rule_id: str) -> int:
    plan = POLICY.plans["enterprise_self_serve"]
    return next(r.location.line for r in plan.rules if r.id == rule_id)


def test_tools_explain_a_blocked_decision():
    lines = explain(EVALUATOR.decide(BLOCKED), POLICY)
    assert lines[0].startswith("Blocked: usage_precheck on plan enterprise_self_serve, as of 2026-04-10")
    assert lines[1] == ("Why: the organization has reached its monthly spend limit: 500 USD spent of a 500 USD "
                        "limit (rule org_limit_reached, rules L2, L3, C4, A2, L4).")
    assert lines[2] == ("Binding limit: the organization limit of 500 USD; 500 USD spent this month before this "
                        "request; headroom 0 USD (the limit is reached).")
    assert lines[3] == ("To continue: an owner or the primary owner raises the organization spend limit above the "
                        "500 USD already spent; or wait for the next billing period, which starts on 2026-05-01.")
    assert "Charges: none (blocked requests are not charged)." in lines
    assert (f"  - org_limit_reached ({POLICY.root}/rules/spend_limits.yaml:{_line_of('org_limit_reached')}; "
            "rules L2, L3, C4, A2, L4): blocks with org_limit_reached") in lines


def test_tools_explain_headroom_of_the_limit_that_binds():
    request = {**BLOCKED, "organization": {**BLOCKED["organization"], "spend": "120"},
               "member": {**BLOCKED["member"], "spend": "97.50"}}
    lines = explain(EVALUATOR.decide(request))
    assert lines[0].startswith("Allowed:")
    assert ("Binding limit: the individual limit of 100 USD; 97.5 USD spent this month before this request; "
            "headroom 2.5 USD.") in lines


def test_tools_explain_a_charged_decision():
    lines = explain(EVALUATOR.decide(CHARGED), POLICY)
    # 120,000 x 3/1e6 + 4,000 x 15/1e6 + 50,000 x 0.30/1e6 = 0.36 + 0.06 + 0.015
    assert "Charges: 0.435 USD in total." in lines
    assert "  - input: 120,000 tokens of claude-sonnet-4-5 at 3 USD per million = 0.36 USD" in lines
    assert "  - output: 4,000 tokens of claude-sonnet-4-5 at 15 USD per million = 0.06 USD" in lines
    assert "  - cache_read: 50,000 tokens of claude-sonnet-4-5 at 0.3 USD per million = 0.015 USD" in lines
    assert "Notification: organization spend has reached 50% of its limit: 390.435 USD of 500 USD." in lines
    assert ("Binding limit: the individual limit of 100 USD; 12.435 USD spent this month including this usage; "
            "headroom 87.565 USD.") in lines
    assert any(line.startswith("  - pooled_usage_charged (") and line.endswith(
        ": allows; charges usage; records record_usage") for line in lines)


def test_tools_explain_without_the_policy_still_names_rules_and_places():
    lines = explain(EVALUATOR.decide(CHARGED))
    fired = [line for line in lines if line.startswith("  - pooled_usage_charged")]
    assert fired == [f"  - pooled_usage_charged ({POLICY.root}/rules/usage.yaml:{_line_of('pooled_usage_charged')}; "
                     "rules U1, U2, U4, A1, R4)"]


def test_tools_explain_cli(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(BLOCKED)))
    assert main(["explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Blocked:")
    assert (f"  - org_limit_reached (policies/rules/spend_limits.yaml:{_line_of('org_limit_reached')}; "
            "rules L2, L3, C4, A2, L4): blocks with org_limit_reached") in out


def test_tools_explain_cli_json(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(CHARGED)))
    assert main(["explain", "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out, parse_float=Decimal)
    assert body["decision"]["charges"]["total"] == "0.435"
    assert "Charges: 0.435 USD in total." in body["explanation"]


def test_tools_explain_cli_bad_request(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({**CHARGED, "plan": "gold"})))
    assert main(["explain"]) == 1
    assert json.loads(capsys.readouterr().err)["error"] == "unknown_plan"
