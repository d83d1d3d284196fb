"""Spend limits per level through the engine (L1-L4) and the credit ledger (C1-C3)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tariff.storage import Conflict, InvalidInput, NotFound, Refused

TOKENS = {"input": 1_000_000}  # claude-opus-4-6: 5 USD


def record(ledger, key, member="ana", model="claude-opus-4-6", product="chat", tokens=TOKENS):
    return ledger.record_usage("acme", idempotency_key=key, member=member, product=product, model=model,
                               tokens=tokens)


@pytest.mark.parametrize("role", ["admin", "member"])
def test_l1_only_owners_set_limits(ledger, new_org, role):
    new_org(seats={"enterprise": 3}, members=())
    ledger.add_member("acme", actor="pat", id="x", role=role)
    with pytest.raises(Refused) as refused:
        ledger.set_limit("acme", actor="x", level="organization", limit=Decimal("100"))
    assert refused.value.code == "role_not_allowed"
    assert ledger.list_limits("acme") == []


def test_limits_at_each_level_and_unlimited(ledger, new_org):
    new_org(plan="legacy_chat_code", channel="self_serve", seats={"chat": 2, "chat_code": 1},
            owner_seat_type="chat_code", members=(("ana", "chat"),))
    ledger.change_member("acme", "ana", actor="pat", role="owner")
    ledger.set_limit("acme", actor="ana", level="organization", limit=Decimal("1000"))
    ledger.set_limit("acme", actor="pat", level="seat_type", subject="chat", limit=Decimal("200.5"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit="unlimited")
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("1500"))  # a change, not a second row
    assert [(l["level"], l["subject"], l["limit"]) for l in ledger.list_limits("acme")] == [
        ("individual", "ana", "unlimited"), ("organization", None, "1500"), ("seat_type", "chat", "200.5")]


def test_levels_the_plan_does_not_have_are_refused(ledger, new_org):
    new_org(members=())
    with pytest.raises(Refused) as refused:
        ledger.set_limit("acme", actor="pat", level="seat_type", subject="enterprise", limit=Decimal("5"))
    assert refused.value.code == "not_available_on_plan"


@pytest.mark.parametrize("level, subject, error", [
    ("individual", None, InvalidInput), ("individual", "zoe", NotFound), ("organization", "ana", InvalidInput)])
def test_limit_subjects_are_checked(ledger, new_org, level, subject, error):
    new_org(members=("ana",))
    with pytest.raises(error):
        ledger.set_limit("acme", actor="pat", level=level, subject=subject, limit=Decimal("5"))


def test_l4_a_raised_limit_unblocks_at_once(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))
    assert record(ledger, "1").recorded is True  # 5 of 5
    blocked = record(ledger, "2")
    assert blocked.recorded is False
    assert [r["code"] for r in blocked.decision.reasons][0] == "individual_limit_reached"
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("6"))
    assert record(ledger, "2").recorded is True
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit="unlimited")
    assert record(ledger, "3").recorded is True


def test_l3_the_lowest_limit_binds(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana", "ben"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("8"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("100"))
    record(ledger, "1", member="ben")
    out = record(ledger, "2", member="ana")
    assert out.decision.to_dict()["binding_limit"] == {"level": "organization", "limit": "8", "spend": "10",
                                                "headroom": "0"}
    blocked = record(ledger, "3", member="ana")
    assert blocked.decision.reasons[0]["code"] == "org_limit_reached"


def test_c3_owners_buy_credits_and_the_balance_moves(ledger, new_org):
    new_org(members=("ana",))
    assert ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))["credit_balance"] == "100"
    assert ledger.purchase_credits("acme", actor="pat", amount=Decimal("0.01"))["credit_balance"] == "100.01"
    with pytest.raises(Refused) as refused:
        ledger.purchase_credits("acme", actor="ana", amount=Decimal("10"))
    assert refused.value.code == "role_not_allowed" and refused.value.decision.resume == [{"action": "ask_owner"}]
    assert ledger.get_organization("acme")["credit_balance"] == "100.01"
    entries = ledger.list_credit_entries("acme")["items"]
    assert [(e["kind"], e["amount"], e["balance_after"], e["member"]) for e in entries] == [
        ("purchase", "100", "100", "pat"), ("purchase", "0.01", "100.01", "pat")]


def test_credits_are_not_sold_on_plans_billed_in_arrears(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", members=())
    with pytest.raises(Refused) as refused:
        ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    assert refused.value.code == "not_available_on_plan"


def test_a_purchase_retried_with_its_key_buys_once(ledger, new_org):
    new_org(members=())
    first = ledger.purchase_credits("acme", actor="pat", amount=Decimal("50"), idempotency_key="buy-1")
    again = ledger.purchase_credits("acme", actor="pat", amount=Decimal("50"), idempotency_key="buy-1")
    assert again == first | {"replayed": True}
    assert ledger.get_organization("acme")["credit_balance"] == "50"
    with pytest.raises(Conflict) as error:
        ledger.purchase_credits("acme", actor="pat", amount=Decimal("60"), idempotency_key="buy-1")
    assert error.value.code == "idempotency_key_reused"


def test_credits_consumed_by_usage_are_in_the_ledger(ledger, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("12"))
    usage = record(ledger, "u1").usage
    entries = ledger.list_credit_entries("acme")["items"]
    assert [(e["kind"], e["amount"], e["balance_after"], e["usage_id"], e["member"]) for e in entries[1:]] == [
        ("consumption", "-5", "7", usage["id"], "ana")]
