"""Automatic top-ups of credits (issue 13, item 5; storage/top_ups.py): set by
the owners the policy lets buy credits, bought in the transaction whose usage
took the balance below the threshold, decided again as the setting owner's
credit purchase, capped per period, never twice for a replayed usage. On
SQLite and PostgreSQL."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tariff.storage import InvalidInput, Refused
from tariff.storage.history import recorded_requests

OPUS = "claude-opus-4-6"  # 5 USD per million input tokens


def use(ledger, key, dollars, member="ana"):
    """A usage of ``dollars`` (Opus input at 5 USD per million tokens)."""
    return ledger.record_usage("acme", idempotency_key=key, member=member, product="chat", model=OPUS,
                               tokens={"input": int(dollars * 200_000)})


def entries(ledger):
    return [(e["kind"], e["amount"], e["balance_after"]) for e in ledger.list_credit_entries("acme")["items"]]


@pytest.fixture
def acme(ledger, new_org):
    new_org(seats={"enterprise": 4}, members=("ana",))
    ledger.add_member("acme", actor="pat", id="oli", role="owner")
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    return ledger


def test_a_usage_that_takes_the_balance_below_the_threshold_buys_in_its_transaction(acme):
    ledger = acme
    out = ledger.set_auto_top_up("acme", actor="oli", below=Decimal("5"), amount=Decimal("20"),
                                 monthly_cap=Decimal("50"))
    assert out == {"enabled": True, "below": "5", "amount": "20", "monthly_cap": "50", "set_by": "oli",
                   "bought_this_period": "0", "updated_at": out["updated_at"]}
    use(ledger, "u1", 4)   # 10 -> 6: not below 5
    assert ledger.get_organization("acme")["credit_balance"] == "6"
    use(ledger, "u2", 2)   # 6 -> 4: below 5, buys 20 as oli
    assert ledger.get_organization("acme")["credit_balance"] == "24"
    assert entries(ledger)[-2:] == [("consumption", "-2", "4"), ("auto_top_up", "20", "24")]
    purchases = [r for r in recorded_requests(ledger.db, "acme") if r["event"]["type"] == "credit_purchase"]
    assert [(r["member"]["id"], r["event"]["amount"]) for r in purchases] == [("pat", "10"), ("oli", "20")]
    use(ledger, "u2", 2)   # the same usage again: replayed, nothing bought twice
    assert ledger.get_organization("acme")["credit_balance"] == "24"
    assert ledger.get_auto_top_up("acme")["bought_this_period"] == "20"


def test_a_batch_buys_once_at_its_end_even_when_written_in_parts(acme, monkeypatch):
    """One transaction per organization: the top-up is decided on the balance the
    whole run left, also when PostgreSQL streams its writes (ingest.Run.writing)."""
    from tariff.storage import ingest
    monkeypatch.setattr(ingest, "STREAM_EVERY", 2)
    ledger = acme
    ledger.set_auto_top_up("acme", actor="pat", below=Decimal("5"), amount=Decimal("20"), monthly_cap=Decimal("50"))
    out = ledger.record_usage_batch([{"organization": "acme", "idempotency_key": f"b{i}", "member": "ana",
                                      "product": "chat", "model": OPUS, "tokens": {"input": 400_000}}
                                     for i in range(4)])  # 2 USD each: 10 -> 2, then 20 bought
    assert [o.status for o in out] == ["recorded"] * 4
    assert [o.answer["credit_balance"] for o in out] == ["8", "6", "4", "2"]
    assert ledger.get_organization("acme")["credit_balance"] == "22"
    assert entries(ledger)[-2:] == [("consumption", "-2", "2"), ("auto_top_up", "20", "22")]
    assert len({o.pk for o in out}) == 4 and all(o.pk for o in out)


def test_the_cap_bounds_what_is_bought_in_a_period(acme):
    ledger = acme
    ledger.set_auto_top_up("acme", actor="pat", below=Decimal("5"), amount=Decimal("10"),
                           monthly_cap=Decimal("15"))
    use(ledger, "u1", 6)   # 10 -> 4: buys 10 -> 14
    use(ledger, "u2", 10)  # 14 -> 4: a second 10 would pass the cap of 15
    assert ledger.get_organization("acme")["credit_balance"] == "4"
    assert [kind for kind, *_ in entries(ledger)].count("auto_top_up") == 1


def test_each_purchase_is_decided_again_for_the_owner_who_set_it(acme):
    ledger = acme
    ledger.set_auto_top_up("acme", actor="oli", below=Decimal("5"), amount=Decimal("10"),
                           monthly_cap=Decimal("100"))
    ledger.change_member("acme", "oli", actor="pat", role="member")  # oli may no longer buy credits
    use(ledger, "u1", 6)
    assert ledger.get_organization("acme")["credit_balance"] == "4"
    assert "auto_top_up" not in [kind for kind, *_ in entries(ledger)]


def test_setting_one_below_the_threshold_buys_at_once_and_ending_it_stops_it(acme):
    ledger = acme
    out = ledger.set_auto_top_up("acme", actor="pat", below=Decimal("50"), amount=Decimal("25"),
                                 monthly_cap=Decimal("25"), idempotency_key="set-1")
    assert out["bought_this_period"] == "25" and ledger.get_organization("acme")["credit_balance"] == "35"
    again = ledger.set_auto_top_up("acme", actor="pat", below=Decimal("50"), amount=Decimal("25"),
                                   monthly_cap=Decimal("25"), idempotency_key="set-1")
    assert again == out and ledger.get_organization("acme")["credit_balance"] == "35"
    ended = ledger.end_auto_top_up("acme", actor="oli")
    assert ended["enabled"] is False and ended["bought_this_period"] == "25"
    use(ledger, "u1", 34)
    assert ledger.get_organization("acme")["credit_balance"] == "1"


def test_who_may_set_one_is_the_policys(acme, new_org):
    ledger = acme
    with pytest.raises(Refused) as member:
        ledger.set_auto_top_up("acme", actor="ana", below=Decimal("5"), amount=Decimal("10"),
                               monthly_cap=Decimal("10"))
    assert member.value.code == "role_not_allowed"
    assert member.value.decision.resume == [{"action": "ask_owner"}]
    new_org("arrears", plan="enterprise_sales_assisted", members=())
    with pytest.raises(Refused) as arrears:
        ledger.set_auto_top_up("arrears", actor="pat", below=Decimal("5"), amount=Decimal("10"),
                               monthly_cap=Decimal("10"))
    assert arrears.value.code == "not_available_on_plan"
    assert ledger.get_auto_top_up("acme")["enabled"] is False


@pytest.mark.parametrize("values, field", [
    ({"below": Decimal("5"), "amount": Decimal("0"), "monthly_cap": Decimal("5")}, "amount"),
    ({"below": Decimal("5"), "amount": Decimal("10"), "monthly_cap": Decimal("5")}, "monthly_cap"),
    ({"below": Decimal("-1"), "amount": Decimal("10"), "monthly_cap": Decimal("10")}, "below"),
    ({"below": Decimal("5"), "amount": Decimal("1E+10"), "monthly_cap": Decimal("1E+10")}, "amount"),
])
def test_values_out_of_range_name_their_field(acme, values, field):
    with pytest.raises(InvalidInput) as error:
        acme.set_auto_top_up("acme", actor="pat", **values)
    assert list(error.value.errors) == [field]


def test_over_http(app):
    from datetime import date

    from tariff.engine.periods import add_months, period_start
    client = app.test_client()
    term = add_months(period_start(date.today()), -2).isoformat()
    assert client.post("/v1/organizations", json={"id": "acme", "name": "Acme", "plan": "enterprise_self_serve",
                                                  "term_start": term, "seats": {"enterprise": 2},
                                                  "primary_owner": {"id": "pat"}}).status_code == 201
    url = "/v1/organizations/acme/credits/auto-top-up"
    assert client.get(url).get_json()["enabled"] is False
    body = {"actor": "pat", "below": "5", "amount": "20", "monthly_cap": "40"}
    first = client.put(url, json=body, headers={"Idempotency-Key": "a1"})
    assert first.status_code == 200 and first.get_json()["bought_this_period"] == "20"  # 0 < 5: bought at once
    again = client.put(url, json=body, headers={"Idempotency-Key": "a1"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert client.get("/v1/organizations/acme/credits").get_json()["credit_balance"] == "20"
    bad = client.put(url, json=body | {"monthly_cap": "1"})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["monthly_cap"]
    ended = client.post(f"{url}/end", json={"actor": "pat"})
    assert ended.status_code == 200 and ended.get_json()["enabled"] is False


def test_each_top_up_is_a_notification_to_the_owners_and_one_webhook_event(acme, database):
    """D18: the policy notifies credits_topped_up with the amount; listed with the
    organization's notifications (the balance it left), and one webhook event
    per top-up, from its row: not a second one from the purchase's audit entry."""
    from sqlalchemy import select

    from tariff.storage import webhooks
    from tariff.storage.models import WebhookEvent
    ledger = acme
    webhooks.create(ledger.books, url="http://127.0.0.1:9/hook", secret="whsec_0123456789abcdef")
    ledger.set_auto_top_up("acme", actor="oli", below=Decimal("5"), amount=Decimal("20"), monthly_cap=Decimal("50"))
    use(ledger, "u1", 6)   # 10 -> 4: buys 20 -> 24
    use(ledger, "u1", 6)   # replayed: no second purchase, no second notice
    use(ledger, "u2", 20)  # 24 -> 4: buys 20 -> 24 again
    notices = [n for n in ledger.list_notifications("acme")["items"] if n["type"] == "credits_topped_up"]
    assert [(n["amount"], n["credit_balance"], n["spend"], n["level"]) for n in notices] == [
        ("20", "24", "6", None), ("20", "24", "26", None)]
    with database.read() as session:
        events = [e for e in session.execute(select(WebhookEvent).order_by(WebhookEvent.pk)).scalars()
                  if e.type == "notification.credits_topped_up"]
    assert [json.loads(e.body)["data"]["id"] for e in events] == [n["id"] for n in notices]


def test_a_purchase_by_hand_is_no_top_up_notice(acme):
    ledger = acme
    ledger.purchase_credits("acme", actor="oli", amount=Decimal("30"))
    assert [n for n in ledger.list_notifications("acme")["items"] if n["type"] == "credits_topped_up"] == []
