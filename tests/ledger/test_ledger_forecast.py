"""Credits running out (issue 13 item 4, D17): the billing run for today puts
a prepaid organization's forecast to the policy, and the notice it asks for is
stored once per period and credit purchase, listed, and sent to webhooks.

Opus 4.6 input is 5 USD per million tokens: 10,000,000 tokens are 50 USD.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from tariff.storage import webhooks
from tariff.storage.models import WebhookEvent

OPUS = "claude-opus-4-6"


def spend(ledger, key, tokens, org="acme"):
    return ledger.record_usage(org, idempotency_key=key, member="ana", product="chat", model=OPUS,
                               tokens={"input": tokens})


def buy(ledger, amount, org="acme"):
    return ledger.purchase_credits(org, actor="pat", amount=Decimal(amount))


def notices(ledger, org="acme"):
    return [n for n in ledger.list_notifications(org)["items"] if n["type"] == "credits_running_out"]


def test_credits_running_out_within_a_week_notify_once(ledger, new_org):
    new_org(members=("ana",))
    buy(ledger, "80")
    spend(ledger, "u1", 10_000_000)  # 50 USD over 10 days of April: 5 a day; 30 left, 6 days
    assert ledger.usage_summary("acme")["projection"]["credits_run_out_on"] == "2026-04-16"
    ledger.run_billing("acme", date(2026, 4, 10))
    [notice] = notices(ledger)
    assert {k: notice[k] for k in ("type", "days", "date", "credit_balance", "spend", "period_start", "level")} == {
        "type": "credits_running_out", "days": 6, "date": "2026-04-16", "credit_balance": "30", "spend": "50",
        "period_start": "2026-04-01", "level": None}
    ledger.run_billing("acme", date(2026, 4, 10))
    ledger.run_billing_all(date(2026, 4, 10))
    assert len(notices(ledger)) == 1  # once per period and purchase


def test_more_than_a_week_ahead_no_spend_or_no_credits_send_nothing(ledger, new_org, clock):
    new_org(members=("ana",))
    ledger.run_billing("acme", date(2026, 4, 10))  # no credits
    buy(ledger, "90")
    ledger.run_billing("acme", date(2026, 4, 10))  # credits, no spend this period
    spend(ledger, "u1", 10_000_000)  # 40 left at 5 a day: 8 days
    ledger.run_billing("acme", date(2026, 4, 10))
    assert notices(ledger) == []
    spend(ledger, "u2", 8_000_000)  # 40 spent more: 0 left, usage now stops (C2), no forecast
    ledger.run_billing("acme", date(2026, 4, 10))
    assert notices(ledger) == [] and ledger.usage_summary("acme")["credit_balance"] == "0"


def test_credits_bought_and_running_out_again_notify_again(ledger, new_org, clock):
    new_org(members=("ana",))
    buy(ledger, "80")
    spend(ledger, "u1", 10_000_000)
    ledger.run_billing("acme", date(2026, 4, 10))
    buy(ledger, "10")  # 40 left: 8 days at 5 a day, no notice
    ledger.run_billing("acme", date(2026, 4, 10))
    assert [n["days"] for n in notices(ledger)] == [6]
    clock.set(2026, 4, 12)
    spend(ledger, "u2", 5_000_000)  # 75 over 12 days: 6.25 a day; 15 left run out in 2.4 days, so on the 3rd
    ledger.run_billing("acme", date(2026, 4, 11))  # a past day: spend is counted to now, no forecast
    assert len(notices(ledger)) == 1
    ledger.run_billing("acme", date(2026, 4, 12))
    assert [(n["days"], n["date"], n["credit_balance"]) for n in notices(ledger)] == [
        (6, "2026-04-16", "30"), (3, "2026-04-15", "15")]
    assert ledger.usage_summary("acme")["projection"]["credits_run_out_on"] == "2026-04-15"


def test_the_daily_job_forecasts_organizations_not_due_and_only_prepaid_ones(ledger, new_org):
    new_org("a", members=("ana",), term_start=date(2026, 4, 1))  # nothing due on 10 April
    new_org("b", plan="enterprise_sales_assisted", members=("ana",), term_start=date(2026, 4, 1))
    buy(ledger, "80", org="a")
    spend(ledger, "u1", 10_000_000, org="a")
    spend(ledger, "u1", 10_000_000, org="b")
    out = ledger.run_billing_all(date(2026, 4, 10))
    assert out["organizations"] == [] and out["failed"] == []
    assert [(n["days"], n["date"]) for n in notices(ledger, "a")] == [(6, "2026-04-16")]
    assert ledger.list_notifications("b")["items"] == []


def test_the_notice_is_a_webhook_event(ledger, database, new_org):
    new_org(members=("ana",))
    webhooks.create(ledger.books, url="http://127.0.0.1:9/hook", secret="s" * 32, organization="acme",
                    events=["notification.credits_running_out"])
    buy(ledger, "80")
    spend(ledger, "u1", 10_000_000)
    ledger.run_billing("acme", date(2026, 4, 10))
    ledger.run_billing("acme", date(2026, 4, 10))
    with database.read() as session:
        events = list(session.execute(select(WebhookEvent)).scalars())
    [event] = events
    body = json.loads(event.body)
    assert (body["type"], body["organization"]) == ("notification.credits_running_out", "acme")
    assert (body["data"]["days"], body["data"]["date"], body["data"]["id"]) == (6, "2026-04-16",
                                                                                 notices(ledger)[0]["id"])



# -- the organization limit --------------------------------------------------------------

def limit_notices(ledger, org="acme"):
    return [n for n in ledger.list_notifications(org)["items"] if n["type"] == "spend_limit_running_out"]


def test_the_organization_limit_reached_within_a_week_notifies_once(ledger, database, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    webhooks.create(ledger.books, url="http://127.0.0.1:9/hook", secret="s" * 32, organization="acme",
                    events=["notification.spend_limit_running_out"])
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("80"))
    spend(ledger, "u1", 10_000_000)  # 50 of 80 over 10 days: 5 a day, 30 of headroom last 6 days
    assert ledger.usage_summary("acme")["projection"]["limit_reached_on"] == "2026-04-16"
    ledger.run_billing("acme", date(2026, 4, 10))
    ledger.run_billing_all(date(2026, 4, 10))
    [notice] = limit_notices(ledger)
    assert {k: notice[k] for k in ("level", "days", "date", "spend", "limit", "threshold_pct")} == {
        "level": "organization", "days": 6, "date": "2026-04-16", "spend": "50", "limit": "80",
        "threshold_pct": None}
    assert "credit_balance" not in notice and notices(ledger) == []  # billed in arrears: no credits
    # the 50 % threshold the usage crossed is still its own notice, and the usage path still sees it sent
    assert [n["threshold_pct"] for n in ledger.list_notifications("acme")["items"]
            if n["type"] == "spend_threshold"] == [50]
    with database.read() as session:
        [event] = list(session.execute(select(WebhookEvent)).scalars())
    body = json.loads(event.body)
    assert (body["type"], body["data"]["days"], body["data"]["level"]) == (
        "notification.spend_limit_running_out", 6, "organization")


def test_a_limit_reached_after_the_period_reached_already_or_unlimited_sends_nothing(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("200"))
    spend(ledger, "u1", 10_000_000)  # 150 of headroom at 5 a day: 30 days, 10 May, after the period
    ledger.run_billing("acme", date(2026, 4, 10))
    ledger.set_limit("acme", actor="pat", level="organization", limit="unlimited")
    ledger.run_billing("acme", date(2026, 4, 10))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("50"))  # reached: usage is blocked
    ledger.run_billing("acme", date(2026, 4, 10))
    assert limit_notices(ledger) == []
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("85"))
    clock.set(2026, 4, 14)  # 50 over 14 days; 35 of headroom run out in 9.8 days, on the 24th: too far
    ledger.run_billing("acme", date(2026, 4, 14))
    assert limit_notices(ledger) == []
    clock.set(2026, 4, 25)  # 50 over 25 days is 2 a day; 35 left last 17.5 days: past the period
    ledger.run_billing("acme", date(2026, 4, 25))
    spend(ledger, "u2", 5_000_000)  # 75 over 25 days is 3 a day; 10 left last 3.33 days: 29 April
    ledger.run_billing("acme", date(2026, 4, 25))
    assert [(n["days"], n["date"]) for n in limit_notices(ledger)] == [(4, "2026-04-29")]


# -- over HTTP, on the real clock --------------------------------------------------------

def test_the_notice_over_http_fits_the_documented_page(app):
    from tariff.engine.periods import add_months, period_start

    client = app.test_client()
    today = date.today()
    term = add_months(period_start(today), -2)
    assert client.post("/v1/organizations", json={
        "id": "acme", "name": "Acme", "plan": "enterprise_self_serve", "term_start": term.isoformat(),
        "seats": {"enterprise": 2}, "primary_owner": {"id": "pat"}}).status_code == 201
    acme = "/v1/organizations/acme"
    assert client.post(f"{acme}/credits/purchases", json={"actor": "pat", "amount": "51"},
                       headers={"Idempotency-Key": "buy"}).status_code == 201
    assert client.post(f"{acme}/usage", headers={"Idempotency-Key": "u"}, json={
        "member": "pat", "product": "chat", "model": OPUS, "tokens": {"input": 10_000_000}}).status_code == 201
    # 50 USD spent in at most 31 days, 1 USD left: whatever the day, it runs out tomorrow
    run = client.post(f"{acme}/billing-run", json={"date": today.isoformat()}, headers={"Idempotency-Key": "r"})
    assert run.status_code == 200
    page = client.get(f"{acme}/notifications").get_json()
    [notice] = [n for n in page["items"] if n["type"] == "credits_running_out"]
    assert (notice["days"], notice["date"], notice["credit_balance"]) == (1, (today + timedelta(days=1)).isoformat(),
                                                                          "1")
    documented = client.get("/openapi.json").get_json()["components"]["schemas"]["SentNotification"]
    assert set(notice) <= set(documented["properties"]) and set(documented["required"]) <= set(notice)
    assert set(page) == {"items", "next"}
