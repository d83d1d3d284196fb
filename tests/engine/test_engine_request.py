"""engine.evaluate.request (and the input checks of engine.evaluate.context): every bad input is
an InputError naming the field at fault; never a zero charge, never a silent
allow."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tariff.engine import InputError
from tariff.engine.evaluate.request import parse_request
from engine_testkit import DROP, make, merge, precheck, usage


def error_of(evaluator, request) -> InputError:
    with pytest.raises(InputError) as info:
        evaluator.decide(request)
    return info.value


def assert_names(evaluator, request, field, code="invalid_request"):
    error = error_of(evaluator, request)
    assert error.code == code
    assert field in error.errors, error.errors
    assert all(isinstance(m, str) and m for m in error.errors[field])
    assert field in str(error)
    return error


def test_a_valid_request_parses_into_exact_values():
    parsed = parse_request(make("enterprise_self_serve", usage(input=5, output=7)))
    assert parsed["organization"]["credit_balance"] == Decimal("250.00")
    assert parsed["event"]["tokens"] == {"input": 5, "output": 7, "cache_write_5m": 0, "cache_write_1h": 0,
                                         "cache_read": 0}
    assert parsed["member"]["notified_pct"] == 0
    assert str(parsed["as_of"]) == "2026-04-10"


def test_unknown_model(evaluator):
    assert_names(evaluator, make(event=usage(model="claude-imaginary-9")), "event.model", "unknown_model")


def test_a_model_before_its_rates_exist_is_unknown(evaluator):
    request = make(event=usage(model="claude-opus-4-6"), as_of="2026-02-04",
                   organization={"term_start": "2026-01-01"})
    error = assert_names(evaluator, request, "event.model", "unknown_model")
    assert "2026-02-04" in str(error)


def test_unknown_model_on_a_precheck_too(evaluator):
    assert_names(evaluator, make(event=precheck(model="gpt-4")), "event.model", "unknown_model")


@pytest.mark.parametrize("token_class", ["input", "output", "cache_write_5m", "cache_write_1h", "cache_read"])
@pytest.mark.parametrize("count", [-1, 1.5, Decimal("2.5"), Decimal("10.0"), "10", True, None, [1]])
def test_token_counts_are_non_negative_integers(evaluator, token_class, count):
    tokens = {"input": 10, token_class: count}
    assert_names(evaluator, make(event=usage(**tokens)), f"event.tokens.{token_class}")


def test_an_unknown_token_class(evaluator):
    assert_names(evaluator, make(event=usage(input=1, thinking=5)), "event.tokens.thinking")


def test_at_least_one_token(evaluator):
    assert_names(evaluator, make(event=usage(input=0)), "event.tokens")


def test_unknown_plan(evaluator):
    request = make(event=precheck())
    request["plan"] = "enterprise_plus"
    assert_names(evaluator, request, "plan", "unknown_plan")


@pytest.mark.parametrize("role", ["superuser", "Owner", "", 1, None])
def test_unknown_role(evaluator, role):
    assert_names(evaluator, make(event=precheck(), member={"role": role}), "member.role")


@pytest.mark.parametrize("field, value", [
    ("as_of", "2026-13-01"), ("as_of", "10/04/2026"), ("as_of", "2026-04-10T10:00:00"), ("as_of", 20260410),
    ("as_of", ""), ("as_of", None),
])
def test_malformed_dates(evaluator, field, value):
    assert_names(evaluator, make(event=precheck(), **{field: value}), field)


def test_malformed_term_start(evaluator):
    assert_names(evaluator, make(event={"type": "seats_added", "count": 1}, organization={"term_start": "soon"},
                                 member={"role": "owner"}), "organization.term_start")


@pytest.mark.parametrize("plan, event, override, field", [
    ("enterprise_self_serve", precheck(), {"organization": {"spend": DROP}}, "organization.spend"),
    ("enterprise_self_serve", precheck(), {"member": {"spend": DROP}}, "member.spend"),
    ("enterprise_self_serve", precheck(), {"organization": {"credit_balance": DROP}},
     "organization.credit_balance"),
    ("enterprise_self_serve", precheck(), {"member": DROP}, "member"),
    ("enterprise_self_serve", precheck(), {"member": {"role": DROP}}, "member.role"),
    ("enterprise_self_serve", {"type": "seats_added", "count": 1}, {"organization": {"term_start": DROP}},
     "organization.term_start"),
    ("enterprise_self_serve", {"type": "renewal"}, {"organization": {"seats": DROP}}, "organization.seats"),
    ("seat_based", precheck(), {"member": {"included_used": DROP}}, "member.included_used"),
    ("seat_based", precheck(), {"channel": DROP}, "channel"),
    ("legacy_chat_code", precheck(), {"member": {"seat_type": DROP}}, "member.seat_type"),
    ("legacy_chat_code", {"type": "seats_added", "count": 1}, {"member": {"role": "owner"}}, "event.seat_type"),
    ("enterprise_self_serve", {"type": "usage", "product": "chat", "model": "claude-haiku-4-5"}, {},
     "event.tokens"),
    ("enterprise_self_serve", {"type": "usage_precheck"}, {}, "event.product"),
    ("enterprise_self_serve", {"type": "seats_added"}, {}, "event.count"),
    ("enterprise_self_serve", {"type": "limit_change", "level": "organization"}, {}, "event.limit"),
    ("enterprise_self_serve", {"type": "credit_purchase"}, {}, "event.amount"),
    ("enterprise_self_serve", {"type": "seat_type_change", "to": "enterprise"}, {}, "event.from"),
    ("enterprise_self_serve", {}, {}, "event.type"),
    ("enterprise_self_serve", None, {"event": DROP}, "event"),
    ("enterprise_self_serve", precheck(), {"plan": DROP}, "plan"),
    ("enterprise_self_serve", precheck(), {"as_of": DROP}, "as_of"),
])
def test_a_missing_fact_is_named(evaluator, plan, event, override, field):
    request = merge(make(plan, event), override)
    assert_names(evaluator, request, field)


@pytest.mark.parametrize("where, value", [
    ({"event": {"type": "credit_purchase", "amount": 100.5}, "member": {"role": "owner"}}, "event.amount"),
    ({"event": {"type": "credit_purchase", "amount": 100.0}, "member": {"role": "owner"}}, "event.amount"),
    ({"event": {"type": "usage_precheck", "product": "chat", "estimate": 0.5}}, "event.estimate"),
    ({"event": {"type": "limit_change", "level": "organization", "limit": 500.0}, "member": {"role": "owner"}},
     "event.limit"),
    ({"event": precheck(), "organization": {"spend": 12.5}}, "organization.spend"),
    ({"event": precheck(), "organization": {"credit_balance": 1.25}}, "organization.credit_balance"),
    ({"event": precheck(), "member": {"limit": 100.0}}, "member.limit"),
    ({"event": precheck(), "organization": {"spend": True}}, "organization.spend"),
])
def test_a_binary_float_amount_is_refused(evaluator, where, value):
    error = assert_names(evaluator, make(**where), value)
    assert "float" in " ".join(error.errors[value])


@pytest.mark.parametrize("amount", ["12.5", Decimal("12.5"), 12])
def test_amounts_as_decimal_text_decimal_or_integer(evaluator, amount):
    decision = evaluator.decide(make(event={"type": "credit_purchase", "amount": amount}, member={"role": "owner"}))
    assert decision.changes == [{"change": "add_credits", "amount": Decimal(amount)}]


@pytest.mark.parametrize("override, field", [
    ({"organization": {"spend": "-1"}}, "organization.spend"),
    ({"member": {"limit": "-5"}}, "member.limit"),
    ({"organization": {"spend": "NaN"}}, "organization.spend"),
    ({"organization": {"spend": "Infinity"}}, "organization.spend"),
    ({"organization": {"spend": "0.0000000001"}}, "organization.spend"),
    ({"organization": {"spend": "1000000001"}}, "organization.spend"),
    ({"organization": {"spend": "twelve"}}, "organization.spend"),
    ({"organization": {"limit": "none"}}, "organization.limit"),
    ({"member": {"notified_pct": 1001}}, "member.notified_pct"),
    ({"member": {"notified_pct": "50"}}, "member.notified_pct"),
])
def test_bad_amounts_are_named(evaluator, override, field):
    assert_names(evaluator, make(event=precheck(), **override), field)


@pytest.mark.parametrize("event, field", [
    ({"type": "credit_purchase", "amount": "0"}, "event.amount"),
    ({"type": "credit_purchase", "amount": "0.001"}, "event.amount"),
    ({"type": "seats_added", "count": 0}, "event.count"),
    ({"type": "seats_added", "count": 1_000_001}, "event.count"),
    ({"type": "seats_added", "count": "3"}, "event.count"),
    ({"type": "limit_change", "level": "team", "limit": "5"}, "event.level"),
    ({"type": "usage_precheck", "product": "chat", "count": 3}, "event.count"),
    ({"type": "renewal", "product": "chat"}, "event.product"),
    ({"type": "usage_precheck", "product": "chat", "estimate": "-1"}, "event.estimate"),
    ({"type": "refund"}, "event.type"),
])
def test_bad_event_fields_are_named(evaluator, event, field):
    assert_names(evaluator, make(event=event, member={"role": "owner"}), field)


def test_an_unknown_field_is_named_not_ignored(evaluator):
    assert_names(evaluator, make(event=precheck(), organisation={"spend": "1"}), "organisation")
    assert_names(evaluator, make(event=precheck(), member={"spnd": "1"}), "member.spnd")


def test_an_unknown_product(evaluator):
    assert_names(evaluator, make(event=precheck(product="excel")), "event.product")


def test_an_event_the_plan_does_not_decide(evaluator):
    assert_names(evaluator, make(event={"type": "early_migration"}), "event.type", "unsupported_event")


def test_a_channel_the_plan_is_not_sold_on(evaluator):
    assert_names(evaluator, make(event=precheck(), channel="sales_assisted"), "channel")
    assert_names(evaluator, make(event=precheck(), channel="retail"), "channel")


def test_a_seat_type_not_on_the_plan(evaluator):
    assert_names(evaluator, make("legacy_chat_code", precheck(), member={"seat_type": "premium"}),
                 "member.seat_type")


def test_as_of_before_the_term_started(evaluator):
    assert_names(evaluator, make(event=precheck(), as_of="2025-12-31"), "as_of")


def test_as_of_before_any_seat_price(evaluator):
    assert_names(evaluator, make(event={"type": "period_start"}, as_of="2024-12-31",
                                 organization={"term_start": DROP}), "as_of")


@pytest.mark.parametrize("payload", [None, [], "request", 5])
def test_a_request_is_an_object(evaluator, payload):
    assert_names(evaluator, payload, "request")


def test_every_bad_field_is_named_at_once(evaluator):
    error = error_of(evaluator, make(event=usage(input=-1), as_of="yesterday", member={"role": "boss"}))
    assert {"as_of", "member.role", "event.tokens.input"} <= set(error.errors)


def test_a_member_without_a_role_on_a_system_event(evaluator):
    assert_names(evaluator, make(event={"type": "period_start"}, member={"role": DROP}), "member.role")


@pytest.mark.parametrize("seats", [{"bogus": 3}, {"enterprise": 10, "chat": 3}])
def test_renewal_seats_of_a_type_the_plan_does_not_have(evaluator, seats):
    request = make(event={"type": "renewal"}, organization={"seats": DROP}, as_of="2027-01-01")
    request["organization"]["seats"] = seats
    assert_names(evaluator, request, f"organization.seats.{next(k for k in seats if k != 'enterprise')}")


@pytest.mark.parametrize("request_", [
    make(event=usage(model="claude-opus-4-1", output=10**20)),
    make(event=precheck(estimate="999999999"), organization={"spend": "999999999"}),
    make(event=precheck(estimate="999999999"), organization={"credit_balance": "-999999999"}),
], ids=["huge-tokens", "spend-plus-estimate", "balance-minus-estimate"])
def test_amounts_beyond_the_supported_range_are_input_errors(evaluator, request_):
    with pytest.raises(InputError):
        evaluator.decide(request_)


def test_an_amount_with_more_than_nine_decimals_among_many_digits(evaluator):
    assert_names(evaluator, make(event={"type": "credit_purchase", "amount": "100.00000000000000000000000000001"},
                                 member={"role": "owner"}), "event.amount")
