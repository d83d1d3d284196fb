"""Seats: added with the prorated charge (S3), removal refused mid-term (S4),
or scheduled for the renewal."""
from __future__ import annotations

from datetime import date

import pytest

from tariff.storage import Conflict, Refused


def test_s3_worked_example(ledger, new_org, clock):
    """Term 1 January with 50 seats; 10 added on 1 April are charged at once for
    April to December (9 months)."""
    new_org(seats={"enterprise": 50}, members=())
    clock.set(2026, 4, 1)
    out = ledger.add_seats("acme", actor="pat", count=10)
    assert out["organization"]["seats"] == {"enterprise": 60}
    assert out["seat_change"]["charges"] == [{"kind": "seat_fee", "item": "enterprise", "quantity": 10,
                                              "unit_price": "60", "months": 9, "amount": "5400",
                                              "period_start": "2026-04-01"}]
    assert out["seat_change"]["charged"] == "5400"


def test_a_seat_added_late_in_a_month_is_charged_from_that_month(ledger, new_org, clock):
    new_org(seats={"enterprise": 2}, members=())
    clock.set(2026, 12, 31)
    out = ledger.add_seats("acme", actor="pat", count=1)
    assert out["seat_change"]["charges"][0]["months"] == 1


def test_members_cannot_add_seats(ledger, new_org):
    new_org(members=("ana",))
    with pytest.raises(Refused) as refused:
        ledger.add_seats("acme", actor="ana", count=1)
    assert refused.value.code == "role_not_allowed"
    assert ledger.get_organization("acme")["seats"] == {"enterprise": 2}


def test_s4_self_serve_removal_is_refused_mid_term(ledger, new_org):
    new_org(seats={"enterprise": 5}, members=())
    with pytest.raises(Refused) as refused:
        ledger.remove_seats("acme", actor="pat", count=1)
    assert refused.value.code == "seat_removal_mid_term"
    assert refused.value.decision.to_dict()["resume"] == [{"action": "at_renewal", "date": "2027-01-01"}]
    assert ledger.get_organization("acme")["seats"] == {"enterprise": 5}


def test_sales_assisted_removal_goes_through_the_account_manager(ledger, new_org):
    new_org(plan="enterprise_sales_assisted", seats={"enterprise": 5}, members=())
    with pytest.raises(Refused) as refused:
        ledger.remove_seats("acme", actor="pat", count=1)
    assert [r["action"] for r in refused.value.decision.resume] == ["contact_account_manager", "at_renewal"]


def test_removal_on_the_terms_first_day(ledger, new_org, clock):
    """Not mid-term on the first day: the seats go; occupied seats cannot."""
    clock.set(2026, 1, 1)
    new_org(seats={"enterprise": 5}, members=("ana", "ben"))
    assert ledger.remove_seats("acme", actor="pat", count=2)["organization"]["seats"] == {"enterprise": 3}
    with pytest.raises(Conflict) as error:
        ledger.remove_seats("acme", actor="pat", count=1)
    assert error.value.code == "seats_in_use"


def test_a_removal_scheduled_for_renewal_applies_before_the_new_term_is_charged(ledger, new_org, clock):
    new_org(seats={"enterprise": 5}, members=("ana",))
    scheduled = ledger.remove_seats("acme", actor="pat", count=2, at_renewal=True)["seat_change"]
    assert scheduled["status"] == "scheduled" and scheduled["effective_on"] == "2027-01-01"
    assert ledger.get_organization("acme")["seats"] == {"enterprise": 5}
    clock.set(2027, 1, 1)
    run = ledger.run_billing("acme", date(2027, 1, 1))
    assert run["renewals"][0]["charged"] == str(3 * 60 * 12)
    assert run["organization_state"]["seats"] == {"enterprise": 3}
    changes = {c["id"]: c for c in ledger.list_seat_changes("acme")["items"]}
    assert changes[scheduled["id"]]["status"] == "applied"


def test_a_scheduled_removal_that_no_longer_fits_fails_alone(ledger, new_org, clock):
    new_org(seats={"enterprise": 4}, members=("ana",))
    scheduled = ledger.remove_seats("acme", actor="pat", count=2, at_renewal=True)["seat_change"]
    ledger.add_member("acme", actor="pat", id="ben")
    ledger.add_member("acme", actor="pat", id="cy")  # now 4 of 4 seats are taken
    clock.set(2027, 1, 1)
    run = ledger.run_billing("acme", date(2027, 1, 1))
    assert run["organization_state"]["seats"] == {"enterprise": 4}
    assert run["renewals"][0]["charged"] == str(4 * 60 * 12)
    failed = {c["id"]: c for c in ledger.list_seat_changes("acme")["items"]}[scheduled["id"]]
    assert failed["status"] == "failed" and failed["detail"]["code"] == "seats_in_use"


def test_a_scheduled_removal_can_be_cancelled(ledger, new_org, clock):
    new_org(seats={"enterprise": 5}, members=())
    scheduled = ledger.remove_seats("acme", actor="pat", count=2, at_renewal=True)["seat_change"]
    assert ledger.cancel_seat_change("acme", scheduled["id"], actor="pat")["seat_change"]["status"] == "cancelled"
    with pytest.raises(Conflict):
        ledger.cancel_seat_change("acme", scheduled["id"], actor="pat")
    clock.set(2027, 1, 1)
    run = ledger.run_billing("acme", date(2027, 1, 1))
    assert run["organization_state"]["seats"] == {"enterprise": 5}
