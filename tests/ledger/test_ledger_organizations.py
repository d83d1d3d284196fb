"""Organizations and members: creation charges the term's seats (S2), members
occupy seats, roles, seat type changes through the engine (S7)."""
from __future__ import annotations

from datetime import date

import pytest

from tariff.storage import Conflict, InvalidInput, NotFound, Refused
from tariff.storage.history import recorded_requests


def test_creating_an_organization_charges_its_seats_for_the_term(ledger, new_org):
    org = new_org(seats={"enterprise": 5}, members=())
    assert org["seats"] == {"enterprise": 5} and org["seats_assigned"] == {"enterprise": 1}
    assert org["renewal_date"] == "2027-01-01"
    assert org["primary_owner"]["role"] == "primary_owner"
    [initial] = ledger.list_seat_changes("acme")["items"]
    assert initial["kind"] == "initial" and initial["effective_on"] == "2026-01-01"
    assert initial["charges"] == [{"kind": "seat_fee", "item": "enterprise", "quantity": 5, "unit_price": "60",
                                   "months": 12, "amount": "3600", "period_start": "2026-01-01"}]


def test_hipaa_seats_are_charged_the_add_on(ledger, new_org):
    new_org(plan="legacy_chat_code", channel="sales_assisted", seats={"chat": 4, "chat_code": 1},
            hipaa_seats=2, owner_seat_type="chat", members=())
    org = ledger.get_organization("acme")
    assert org["hipaa_seats"] == 2
    lines = [c for change in ledger.list_seat_changes("acme")["items"] for c in change["charges"]]
    assert {(c["kind"], c["item"], c["quantity"], c["amount"]) for c in lines} == {
        ("seat_fee", "chat", 2, "720"), ("seat_fee", "chat", 2, "720"), ("hipaa_addon", "chat", 2, "120"),
        ("seat_fee", "chat_code", 1, "1080")}


def test_hipaa_seats_need_a_seat_type_with_the_add_on(ledger):
    with pytest.raises(Refused) as refused:
        ledger.create_organization(id="h", name="H", plan="enterprise_self_serve", term_start=date(2026, 1, 1),
                                   seats={"enterprise": 2}, hipaa_seats=1, primary_owner={"id": "pat"})
    assert refused.value.code == "not_available_on_plan"
    with pytest.raises(NotFound):
        ledger.get_organization("h")  # nothing was kept


@pytest.mark.parametrize("kwargs, path", [
    ({"plan": "platinum"}, "plan"),
    ({"plan": "legacy_chat_code"}, "channel"),
    ({"seats": {"enterprise": 0}}, "seats"),
    ({"seats": {"chat": 2}}, "seats.chat"),
    ({"id": "has space"}, "id"),
    ({"extra_usage": True}, "extra_usage"),
])
def test_bad_organizations_name_the_field(ledger, kwargs, path):
    args = {"id": "acme", "name": "Acme", "plan": "enterprise_self_serve", "term_start": date(2026, 1, 1),
            "seats": {"enterprise": 2}, "primary_owner": {"id": "pat"}} | kwargs
    with pytest.raises(InvalidInput) as error:
        ledger.create_organization(**args)
    assert path in error.value.errors


def test_organization_ids_are_unique(ledger, new_org):
    new_org(members=())
    with pytest.raises(Conflict) as error:
        new_org(members=())
    assert error.value.code == "organization_exists"


def test_members_occupy_seats(ledger, new_org):
    new_org(seats={"enterprise": 2}, members=("ana",))
    with pytest.raises(Conflict) as error:
        ledger.add_member("acme", actor="pat", id="ben")
    assert error.value.code == "no_free_seat"
    ledger.add_seats("acme", actor="pat", count=1)
    assert ledger.add_member("acme", actor="pat", id="ben")["seat_type"] == "enterprise"
    assert [m["id"] for m in ledger.list_members("acme")["items"]] == ["ana", "ben", "pat"]


def test_member_ids_are_unique_per_organization(ledger, new_org):
    new_org(seats={"enterprise": 4}, members=("ana",))
    with pytest.raises(Conflict):
        ledger.add_member("acme", actor="pat", id="ana")
    new_org("other", seats={"enterprise": 4}, members=("ana",))  # another organization may have an "ana"


def policy_refusal(code, resume):
    """The policy's refusal (policies/rules/members.yaml), with the way to resume."""
    def check(error):
        assert error.value.code == code and error.value.decision.resume == [{"action": resume}]
    return check


def test_who_may_add_members_is_the_policys(ledger, new_org):
    new_org(seats={"enterprise": 6}, members=("ana",))
    ledger.add_member("acme", actor="pat", id="ada", role="admin")
    with pytest.raises(Refused) as error:
        ledger.add_member("acme", actor="ana", id="x")  # a member
    policy_refusal("role_not_allowed", "ask_admin")(error)
    with pytest.raises(Refused) as error:
        ledger.add_member("acme", actor="ada", id="y", role="owner")  # an admin cannot make owners
    policy_refusal("role_not_allowed", "ask_owner")(error)
    assert ledger.add_member("acme", actor="ada", id="z")["role"] == "member"
    with pytest.raises(InvalidInput) as error:
        ledger.add_member("acme", actor="nobody", id="q")
    assert error.value.errors == {"actor": ["no member 'nobody' in organization 'acme'"]}
    with pytest.raises(Refused) as error:
        ledger.add_member("acme", actor="pat", id="w", role="primary_owner")
    policy_refusal("primary_owner_is_transferred", "ask_primary_owner")(error)
    assert {m["id"] for m in ledger.list_members("acme")["items"]} == {"pat", "ana", "ada", "z"}


def test_member_changes_allowed_by_the_policy_are_audited(ledger, new_org):
    new_org(seats={"enterprise": 4}, members=("ana",))
    ledger.add_member("acme", actor="pat", id="ben")
    ledger.change_member("acme", "ben", actor="pat", role="admin")
    kinds = [request["event"]["type"] for request in recorded_requests(ledger.db, "acme")]
    assert kinds[-2:] == ["member_add", "member_role_change"]


def test_roles_change_by_owners_only_and_the_primary_owner_stays(ledger, new_org):
    new_org(seats={"enterprise": 4}, members=("ana", "ben"))
    assert ledger.change_member("acme", "ana", actor="pat", role="owner")["role"] == "owner"
    assert ledger.change_member("acme", "ben", actor="ana", role="admin")["role"] == "admin"
    with pytest.raises(Refused) as error:
        ledger.change_member("acme", "ana", actor="ben", role="member")
    policy_refusal("role_not_allowed", "ask_owner")(error)
    with pytest.raises(Refused) as error:
        ledger.change_member("acme", "pat", actor="ana", role="member")
    policy_refusal("primary_owner_is_transferred", "ask_primary_owner")(error)
    assert ledger.get_member("acme", "pat")["role"] == "primary_owner"
    with pytest.raises(NotFound):
        ledger.change_member("acme", "zoe", actor="pat", role="member")


def test_seat_type_change_is_decided_by_the_engine_and_converts_the_seat(ledger, new_org):
    """S7: an admin assigns the seat type, at once; the dearer seat is charged
    the monthly difference for the months left (S3's proration)."""
    new_org(plan="legacy_chat_code", channel="self_serve", seats={"chat": 3, "chat_code": 1},
            owner_seat_type="chat_code", members=(("ana", "chat"), ("ben", "chat")))
    ledger.add_member("acme", actor="pat", id="ada", role="admin", seat_type="chat")
    out = ledger.change_member("acme", "ana", actor="ada", seat_type="chat_code")  # 2026-04-10: 9 months left
    assert out["seat_type"] == "chat_code"
    assert out["seat_change"]["charges"] == [{"kind": "seat_upgrade", "item": "chat_code", "quantity": 1,
                                              "unit_price": "60", "months": 9, "amount": "540",
                                              "period_start": "2026-04-01"}]
    org = ledger.get_organization("acme")
    assert org["seats"] == {"chat": 2, "chat_code": 2}
    assert org["seats_assigned"] == {"chat": 2, "chat_code": 2}
    down = ledger.change_member("acme", "ana", actor="pat", seat_type="chat")  # cheaper: no refund mid-term
    assert down["seat_change"]["charges"] == [] and down["seat_type"] == "chat"


def test_a_member_cannot_change_seat_types(ledger, new_org):
    new_org(plan="legacy_chat_code", channel="self_serve", seats={"chat": 3}, owner_seat_type="chat",
            members=(("ana", "chat"),))
    with pytest.raises(Refused) as refused:
        ledger.change_member("acme", "ana", actor="ana", seat_type="chat_code")
    assert refused.value.code == "role_not_allowed"
    assert refused.value.decision.resume == [{"action": "ask_admin"}]
    assert ledger.get_member("acme", "ana")["seat_type"] == "chat"


def test_seat_type_not_on_the_plan(ledger, new_org):
    new_org(members=("ana",))
    with pytest.raises(Refused) as refused:
        ledger.change_member("acme", "ana", actor="pat", seat_type="chat_code")
    assert refused.value.code == "not_available_on_plan"


def test_extra_usage_switch(ledger, new_org):
    """P2: an owner switches extra usage on and (through the engine) off;
    usage billing itself cannot be switched off on usage-based plans (U4)."""
    new_org(plan="seat_based", channel="sales_assisted", seats={"standard": 3}, members=("ana",))
    with pytest.raises(Refused) as error:
        ledger.update_organization("acme", actor="ana", extra_usage=True)
    policy_refusal("role_not_allowed", "ask_owner")(error)
    assert ledger.update_organization("acme", actor="pat", extra_usage=True)["extra_usage"] is True
    with pytest.raises(Refused) as refused:
        ledger.update_organization("acme", actor="ana", extra_usage=False)
    assert refused.value.code == "role_not_allowed"
    assert ledger.update_organization("acme", actor="pat", extra_usage=False)["extra_usage"] is False
    new_org("usage", members=())
    with pytest.raises(Refused) as refused:
        ledger.update_organization("usage", actor="pat", extra_usage=False)
    assert refused.value.code == "billing_cannot_be_disabled"


def test_unknown_organization(ledger):
    with pytest.raises(NotFound) as error:
        ledger.get_organization("nope")
    assert error.value.code == "organization_not_found"


def test_organization_reads_back_what_was_created(ledger, new_org):
    new_org(members=("ana",))
    org = ledger.get_organization("acme")
    assert org["credit_balance"] == "0" and org["prepaid"] is True
    assert org["plan"] == "enterprise_self_serve" and org["channel"] == "self_serve"
    new_org("arrears", plan="enterprise_sales_assisted", members=())
    assert ledger.get_organization("arrears")["credit_balance"] is None
