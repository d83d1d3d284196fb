"""Period close, invoices (A1, M2, L5) and renewal (S2, R1, R2), run for a date."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tariff.storage import InvalidInput, NotFound

OPUS = "claude-opus-4-6"


def record(ledger, key, member="ana", tokens=None, org="acme", **kwargs):
    return ledger.record_usage(org, idempotency_key=key, member=member, product="chat", model=OPUS,
                               tokens=tokens or {"input": 1_000_000}, **kwargs)


def test_a1_the_month_closes_with_an_invoice_line_per_member(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana", "ben", "cy"))
    record(ledger, "1", tokens={"input": 1})  # 0.000005
    record(ledger, "2", tokens={"input": 1})  # ana: 0.00001 -> 0.00
    record(ledger, "3", member="ben", tokens={"input": 1001})  # 0.005005 -> 0.01 (half-up)
    record(ledger, "4", member="cy", tokens={"input": 1000})  # 0.005 -> 0.01 (half-up, not to even)
    ledger.add_seats("acme", actor="pat", count=1)  # 9 months of 60
    clock.set(2026, 5, 1)
    run = ledger.run_billing("acme", date(2026, 5, 1))
    # the organization's first period is its term's first month: January to April close
    assert run["closed_periods"] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    assert run["closed_through"] == "2026-04-01"
    head = run["invoices"][-1]
    assert ledger.get_invoice("acme", date(2026, 1, 1))["total"] == "2880.00"  # the term's seats (S2)
    invoice = ledger.get_invoice("acme", date(2026, 4, 1))
    assert invoice["status"] == "issued" and invoice["number"] == "acme-2026-04" == head["number"]
    lines = [(l["kind"], l["member"], l["exact"], l["amount"], l["quantity"]) for l in invoice["lines"]]
    assert lines == [("usage", "ana", "0.00001", "0.00", 2), ("usage", "ben", "0.005005", "0.01", 1),
                     ("usage", "cy", "0.005", "0.01", 1), ("usage", "pat", "0", "0.00", 0),
                     ("seat_fee", None, "540", "540.00", 1)]
    assert invoice["total"] == "540.02" == head["total"]
    assert sum(Decimal(l["amount"]) for l in invoice["lines"]) == Decimal(invoice["total"])
    assert ledger.list_invoices("acme")["items"][-1] == {"organization": "acme", **head}


def test_the_run_is_idempotent_and_catches_up(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    clock.set(2026, 7, 15)
    run = ledger.run_billing("acme", date(2026, 7, 15))
    assert run["closed_periods"] == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01",
                                     "2026-06-01"]
    again = ledger.run_billing("acme", date(2026, 7, 15))
    assert again["closed_periods"] == [] and again["invoices"] == [] and again["renewals"] == []
    assert len(ledger.list_invoices("acme")["items"]) == 6


def test_self_serve_periods_close_without_an_invoice(ledger, new_org, clock):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    record(ledger, "1")
    clock.set(2026, 5, 1)
    run = ledger.run_billing("acme", date(2026, 5, 1))
    assert run["closed_periods"][-1] == "2026-04-01" and run["invoices"] == []
    with pytest.raises(NotFound) as error:
        ledger.get_invoice("acme", date(2026, 4, 1))
    assert error.value.code == "invoice_not_found"
    with pytest.raises(NotFound) as error:
        ledger.get_invoice("acme", date(2026, 5, 1))
    assert error.value.code == "no_invoice_on_plan"


def test_a_draft_invoice_for_the_open_period(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    record(ledger, "1")
    draft = ledger.get_invoice("acme", date(2026, 4, 20))
    assert draft["status"] == "draft" and draft["number"] is None and draft["period_start"] == "2026-04-01"
    assert draft["total"] == "5.00"


def test_l5_spend_resets_with_the_period(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))
    record(ledger, "1")
    assert record(ledger, "2").recorded is False
    clock.set(2026, 5, 1)
    ledger.run_billing("acme", date(2026, 5, 1))
    assert record(ledger, "2").recorded is True
    assert ledger.usage_summary("acme")["spend"] == "5"


def test_renewal_charges_the_new_term(ledger, new_org, clock):
    new_org(plan="enterprise_sales_assisted", seats={"enterprise": 4}, members=("ana",))
    clock.set(2027, 1, 1)
    run = ledger.run_billing("acme", date(2027, 1, 1))
    assert run["renewals"] == [{"date": "2027-01-01", "from_plan": "enterprise_sales_assisted",
                                "to_plan": "enterprise_sales_assisted",
                                "transition": {"type": "term_renewed", "date": "2027-01-01"}, "charged": "2880",
                                "notifications": []}]
    org = run["organization_state"]
    assert (org["term_start"], org["renewal_date"]) == ("2027-01-01", "2028-01-01")
    # December closed first, under the old term; January's invoice will carry the new term's seats.
    assert run["closed_periods"][-1] == "2026-12-01"
    clock.set(2027, 2, 1)
    ledger.run_billing("acme", date(2027, 2, 1))
    january = ledger.get_invoice("acme", date(2027, 1, 1))
    assert [(l["kind"], l["amount"]) for l in january["lines"] if l["kind"] != "usage"] == [("seat_fee", "2880.00")]


def test_r1_legacy_chat_code_moves_everyone_to_the_enterprise_seat(ledger, new_org, clock):
    new_org(plan="legacy_chat_code", channel="self_serve", seats={"chat": 3, "chat_code": 2}, hipaa_seats=1,
            owner_seat_type="chat_code", members=(("ana", "chat"), ("ben", "chat_code")))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    clock.set(2027, 1, 1)
    run = ledger.run_billing("acme", date(2027, 1, 1))
    [renewal] = run["renewals"]
    assert (renewal["from_plan"], renewal["to_plan"]) == ("legacy_chat_code", "enterprise_self_serve")
    assert renewal["transition"] == {"type": "move_to_enterprise_seat", "plan": "enterprise_self_serve",
                                     "date": "2027-01-01", "hipaa_addon_ended": True}
    # D11: the HIPAA add-on is not dropped silently.
    assert renewal["notifications"] == [{"type": "hipaa_addon_dropped", "seats": 1, "date": "2027-01-01",
                                         "resume": "contact_sales"}]
    assert renewal["charged"] == str(5 * 60 * 12)
    org = run["organization_state"]
    assert org["plan"] == "enterprise_self_serve" and org["seats"] == {"enterprise": 5}
    assert org["hipaa_seats"] == 0 and org["credit_balance"] == "10"
    assert {m["id"]: m["seat_type"] for m in ledger.list_members("acme")["items"]} == {
        "ana": "enterprise", "ben": "enterprise", "pat": "enterprise"}
    assert record(ledger, "after").usage["seat_type"] == "enterprise"


def test_r2_seat_based_moves_to_usage_based_enterprise(ledger, new_org, clock):
    new_org(plan="seat_based", channel="sales_assisted", seats={"standard": 2, "premium": 1},
            owner_seat_type="premium", members=(("ana", "standard"),), extra_usage=True)
    clock.set(2027, 1, 1)
    run = ledger.run_billing("acme", date(2027, 1, 1))
    org = run["organization_state"]
    assert org["plan"] == "enterprise_sales_assisted" and org["seats"] == {"enterprise": 3}
    assert org["extra_usage"] is False
    assert {m["seat_type"] for m in ledger.list_members("acme")["items"]} == {"enterprise"}
    again = ledger.run_billing("acme", date(2027, 1, 1))
    assert again["renewals"] == []


def test_the_billing_run_for_every_organization(ledger, new_org):
    new_org("a", plan="enterprise_sales_assisted", members=())
    new_org("b", members=(), term_start=date(2026, 4, 1))
    assert ledger.due_organizations(date(2026, 4, 10)) == ["a"]
    out = ledger.run_billing_all(date(2026, 4, 10))
    assert [o["organization"] for o in out["organizations"]] == ["a"] and out["failed"] == []
    assert ledger.due_organizations(date(2026, 4, 10)) == []


def test_a_billing_run_cannot_close_a_period_early(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", members=())
    with pytest.raises(InvalidInput) as error:
        ledger.run_billing("acme", date(2026, 5, 1))  # the clock says 2026-04-10
    assert list(error.value.errors) == ["date"]
    with pytest.raises(InvalidInput):
        ledger.run_billing_all(date(2026, 5, 1))


def test_p1_seat_based_seats_are_charged_each_period_not_a_year_upfront(ledger, new_org, clock):
    """D16: each month start charges the seats held then; nothing for the rest of the year."""
    new_org(plan="seat_based", channel="sales_assisted", seats={"standard": 2, "premium": 1},
            owner_seat_type="premium", members=(("ana", "standard"),))
    added = ledger.add_seats("acme", actor="pat", count=1, seat_type="standard")  # April: that period only
    assert added["seat_change"]["charged"] == "40"
    clock.set(2026, 6, 1)
    ledger.run_billing("acme", date(2026, 6, 1))
    fees = [c for c in ledger.list_seat_changes("acme")["items"] if c["kind"] == "period_fee"]
    # Feb..Jun starts: 2 standard x 40 + 1 premium x 150 = 230; from May, 3 x 40 + 150 = 270.
    assert [(c["effective_on"], c["charged"]) for c in fees] == [
        ("2026-02-01", "230"), ("2026-03-01", "230"), ("2026-04-01", "230"), ("2026-05-01", "270"),
        ("2026-06-01", "270")]
    may = ledger.get_invoice("acme", date(2026, 5, 1))
    assert [(l["kind"], l["amount"]) for l in may["lines"] if l["kind"] != "usage"] == [
        ("seat_fee", "150.00"), ("seat_fee", "120.00")]


def test_d11_limits_of_a_level_the_new_plan_has_not_end_at_renewal_and_stay_in_the_history(ledger, new_org, clock):
    new_org(plan="legacy_chat_code", channel="sales_assisted", seats={"chat": 3, "chat_code": 2},
            owner_seat_type="chat_code", members=(("ana", "chat"),))
    ledger.set_limit("acme", actor="pat", level="seat_type", subject="chat", limit=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("900"))
    clock.set(2027, 1, 1)
    ledger.run_billing("acme", date(2027, 1, 1))
    assert [(l["level"], l["limit"]) for l in ledger.list_limits("acme")] == [("organization", "900")]
    ended = {(l["level"], l["subject"]): l["ended_on"] for l in ledger.list_limits("acme", ended=True)}
    assert ended == {("organization", None): None, ("seat_type", "chat"): "2027-01-01"}
