"""The ledger's decisions go to the decision log and the decision metrics,
like those of /v1/decisions, so `tariff diff` can replay them."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tariff.engine.periods import add_months, period_start

REPO_ROOT = Path(__file__).resolve().parents[2]
TERM = add_months(period_start(date.today()), -2)


def test_every_ledger_decision_is_logged_and_counted(migrated_url, tmp_path):
    from tariff.api import create_app
    log = tmp_path / "decisions.jsonl"
    app = create_app({"POLICIES_DIR": str(REPO_ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": str(log),
                      "STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": migrated_url})
    client = app.test_client()
    assert client.post("/v1/organizations", json={
        "id": "acme", "name": "Acme", "plan": "enterprise_self_serve", "term_start": TERM.isoformat(),
        "seats": {"enterprise": 2}, "primary_owner": {"id": "pat", "email": "pat@example.com"}}).status_code == 201
    assert client.post("/v1/organizations/acme/credits/purchases", headers={"Idempotency-Key": "c1"},
                       json={"actor": "pat", "amount": "50"}).status_code in (200, 201)
    assert client.post("/v1/organizations/acme/usage", headers={"Idempotency-Key": "u1"}, json={
        "member": "pat", "product": "chat", "model": "claude-opus-4-6",
        "tokens": {"input": 1000}}).status_code in (200, 201)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = [line["input"]["event"]["type"] for line in lines]
    assert "credit_purchase" in events and "usage" in events
    usage = next(line for line in lines if line["input"]["event"]["type"] == "usage")
    assert usage["input"]["organization"]["id"] == "acme" and usage["result"]["outcome"] == "allow"
    assert usage["input"]["as_of"] == date.today().isoformat()  # JSON a replay can read back
    metrics = client.get("/metrics").get_data(as_text=True)
    counted = [l for l in metrics.splitlines() if l.startswith("tariff_decisions_total{")
               and 'plan="enterprise_self_serve"' in l]
    assert sum(float(l.rsplit(" ", 1)[1]) for l in counted) >= len(lines)
