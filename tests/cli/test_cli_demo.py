"""`tariff demo`: example organizations written through the ledger, whose
totals add up, on a fixed day; a second run writes nothing."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from tariff.api.console.demo import seed
from tariff.cli.main import main
from tariff.engine import Evaluator, load_policy_set
from tariff.storage import Database, Ledger, check_ledger, migrate

ROOT = Path(__file__).resolve().parents[2]


def test_demo_writes_an_organization_on_each_plan(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    migrate(url)
    db = Database(url)
    evaluator = Evaluator(load_policy_set(str(ROOT / "policies")))
    now = datetime(2026, 4, 20, 15, tzinfo=timezone.utc)
    assert seed(db, evaluator, now) == ["acme", "globex", "initech", "umbrella"]
    assert check_ledger(db) == []
    ledger = Ledger(db, evaluator, clock=lambda: now)
    plans = {org: ledger.get_organization(org)["plan"] for org in ("acme", "globex", "initech", "umbrella")}
    assert plans == {"acme": "enterprise_self_serve", "globex": "enterprise_sales_assisted",
                     "initech": "seat_based", "umbrella": "legacy_chat_code"}
    acme = ledger.usage_summary("acme")
    assert len(acme["daily"]) == 20 and acme["projection"]["credits_run_out_on"] is not None
    ana = next(m for m in acme["members"] if m["id"] == "ana")
    assert ana["limits_reached"] == ["individual"]
    march = ledger.get_invoice("globex", datetime(2026, 3, 1).date())
    assert march["status"] == "issued" and {line["member"] for line in march["lines"] if line["kind"] == "usage"} == {
        "hal", "ivy", "gina"}
    assert seed(db, evaluator, now) == []
    db.dispose()


def test_the_command_uses_the_servers_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TARIFF_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert main(["demo", "--policies", str(ROOT / "policies")]) == 0
    assert "sign in as pat in acme" in capsys.readouterr().out
    assert main(["demo", "--policies", str(ROOT / "policies")]) == 0
    assert "nothing written" in capsys.readouterr().out
