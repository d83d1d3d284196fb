"""Voiding a recorded usage while its period is open (issue 10 item 4): the
charge goes back to the credits or comes off the month's spend, an audit
entry is written; after the period closes the refusal says so."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tariff.storage import Conflict, NotFound, check_ledger
from tariff.storage.models import Event

OPUS = "claude-opus-4-6"  # 5 USD per million input tokens


def record(ledger, key, org="acme", member="ana", tokens=1_000_000, **kwargs):
    return ledger.record_usage(org, idempotency_key=key, member=member, product="chat", model=OPUS,
                               tokens={"input": tokens}, **kwargs)


def test_a_void_gives_the_credits_back_and_takes_it_off_the_month(ledger, new_org, database):
    new_org(members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("20"))
    kept = record(ledger, "r1")
    record(ledger, "r2", member="ben")
    assert ledger.get_organization("acme")["credit_balance"] == "10"
    out = ledger.void_usage("acme", kept.usage["id"], idempotency_key="v1", reason="duplicate event")
    assert out["returned"] == "5" and out["credit_balance"] == "15" and out["replayed"] is False
    assert ledger.get_organization("acme")["credit_balance"] == "15"
    summary = ledger.usage_summary("acme")
    assert summary["spend"] == "5"  # ben's only
    assert [(m["id"], m["spend"], m["records"]) for m in summary["members"] if m["id"] != "pat"] == [
        ("ana", "0", 1), ("ben", "5", 1)]
    again = ledger.void_usage("acme", kept.usage["id"], idempotency_key="v1", reason="duplicate event")
    assert again["replayed"] is True and again["credit_balance"] == "15"
    with pytest.raises(Conflict) as error:
        ledger.void_usage("acme", kept.usage["id"], idempotency_key="v2")
    assert error.value.code == "usage_already_voided"
    with pytest.raises(Conflict) as error:  # the same key for another void
        ledger.void_usage("acme", kept.usage["id"] + 1, idempotency_key="v1")
    assert error.value.code == "idempotency_key_reused"
    with database.read() as session:
        audit = session.execute(select(Event).where(Event.kind == "usage_void")).scalars().all()
    assert len(audit) == 1 and '"reason": "duplicate event"' in audit[0].decision
    assert check_ledger(database) == []


def test_a_void_on_a_plan_without_credits_comes_off_the_spend_and_the_invoice(ledger, new_org, database):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    first = record(ledger, "r1")
    record(ledger, "r2", tokens=2_000_000)
    assert ledger.get_invoice("acme", date(2026, 4, 1))["total"] == "15.00"
    out = ledger.void_usage("acme", first.usage["id"], idempotency_key="v")
    assert out["returned"] == "5" and out["credit_balance"] is None
    assert ledger.get_invoice("acme", date(2026, 4, 1))["total"] == "10.00"
    assert check_ledger(database) == []


def test_after_the_period_closes_the_refusal_says_so(ledger, new_org, clock):
    clock.set(2026, 3, 2)
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    march = record(ledger, "m")
    clock.set(2026, 4, 10)
    ledger.run_billing("acme", date(2026, 4, 1))
    with pytest.raises(Conflict) as error:
        ledger.void_usage("acme", march.usage["id"], idempotency_key="v")
    assert error.value.code == "period_closed" and "2026-03 is closed" in error.value.message
    april = record(ledger, "a")
    assert ledger.void_usage("acme", april.usage["id"], idempotency_key="w")["returned"] == "5"


def test_an_unknown_usage_or_another_organizations_is_not_found(ledger, new_org):
    new_org("acme", plan="enterprise_sales_assisted", members=("ana",))
    new_org("beta", plan="enterprise_sales_assisted", members=("ana",))
    theirs = record(ledger, "b", org="beta")
    for usage_id in (theirs.usage["id"], 999_999):
        with pytest.raises(NotFound) as error:
            ledger.void_usage("acme", usage_id, idempotency_key=f"v{usage_id}")
        assert error.value.code == "usage_not_found"
