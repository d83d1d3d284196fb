"""The ledger's history replays: every applied decision keeps the engine
request it was made from, so `tariff diff --ledger` can replay what really
happened under a changed policy set (issue 5)."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from tariff.cli.main import main
from tariff.engine import load_policy_set
from tariff.engine import replay
from tariff.storage.history import recorded_requests

ROOT = Path(__file__).resolve().parents[2]
# Haiku 4.5 input goes from 1 to 1.25 USD per million tokens from 1 April 2026.
PRICE_CHANGE = """
  - effective_from: 2026-04-01
    source: test price change
    models:
      claude-haiku-4-5:
        {input: 1.25, output: 5, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.10}
"""


def changed_policies(tmp_path) -> Path:
    new = tmp_path / "new_policies"
    shutil.copytree(ROOT / "policies", new)
    (new / "rate_card.yaml").write_text((new / "rate_card.yaml").read_text() + PRICE_CHANGE)
    return new


def test_the_ledger_history_replays_under_a_changed_policy(ledger, new_org, database, tmp_path, capsys):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    # 2,000,000 input tokens of Haiku 4.5 on 10 April: 2.00 USD, and 2.50 under the new price.
    out = ledger.record_usage("acme", idempotency_key="u1", member="ana", product="chat",
                              model="claude-haiku-4-5", tokens={"input": 2_000_000})
    assert out.recorded is True and Decimal(out.usage["billed"]) == Decimal("2")

    requests = list(recorded_requests(database))
    kinds = [r["event"]["type"] for r in requests]
    assert "credit_purchase" in kinds and kinds[-1] == "usage"  # oldest first
    assert list(recorded_requests(database, "no-such-org")) == []
    assert list(recorded_requests(database, "acme")) == requests  # acme's alone: by its pk

    new = changed_policies(tmp_path)
    report = replay(load_policy_set(ROOT / "policies"), load_policy_set(new), requests)
    assert report.totals.delta == Decimal("0.5")
    assert report.groups[("acme", "enterprise_self_serve")].delta == Decimal("0.5")

    assert main(["diff", str(ROOT / "policies"), str(new), "--ledger", database.url, "--organization", "acme",
                 "--format", "json"]) == 0
    assert '"0.5"' in capsys.readouterr().out
