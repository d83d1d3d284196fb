"""Money properties of whole decisions (hypothesis):

- itemised charges add up exactly to the total;
- a usage charge never decreases when any token count increases (the
  long-context tier makes the price per token jump up: still monotone);
- N seats for M months cost exactly N x M x the monthly price;
- amounts are Decimal, never float, anywhere in a decision.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tariff.engine.periods import add_months, months_remaining
from engine_testkit import PLANS, SEAT_TYPES, amounts_in, floats_in, make, precheck

D = Decimal
CLASSES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
PROMPT = ("input", "cache_write_5m", "cache_write_1h", "cache_read")
MODELS = ("claude-opus-4-6", "claude-opus-4-5", "claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-6",
          "claude-sonnet-4-5", "claude-sonnet-4", "claude-haiku-4-5", "claude-haiku-3-5", "claude-haiku-3")
AS_OF = "2026-04-10"  # every model of the card is in force
SEAT_PLAN = {"legacy_chat_code": "chat_code", "seat_based": "premium"}

settings.register_profile("tariff-engine", deadline=None, max_examples=150,
                          suppress_health_check=[HealthCheck.too_slow])
PROPERTY = settings(settings.get_profile("tariff-engine"))

token_counts = st.integers(min_value=0, max_value=3_000_000)
tokens_strategy = st.fixed_dictionaries({}, optional={c: token_counts for c in CLASSES}).filter(
    lambda t: any(t.values()))
# prompts around the 200,000-token long-context threshold
near_threshold = st.fixed_dictionaries({"input": st.integers(195_000, 205_000)},
                                       optional={c: st.integers(0, 3_000) for c in CLASSES if c != "input"})


def usage_request(plan, model, tokens, **override):
    return make(plan, {"type": "usage", "product": "chat", "model": model, "tokens": tokens}, **override)


def oracle(policy, model, tokens) -> Decimal:
    """The usage value straight from the rate card: rates per million, the long
    context rates when the prompt exceeds the threshold."""
    rates = policy.rate_card.rates(model, date.fromisoformat(AS_OF))
    card = rates.base
    if rates.long_context is not None and sum(tokens.get(c, 0) for c in PROMPT) > rates.above_prompt_tokens:
        card = rates.long_context
    return sum((card.per_million[c] * tokens.get(c, 0) for c in CLASSES), D(0)) / D(1_000_000)


def lines_add_up(decision):
    assert decision.total == sum((line.amount for line in decision.charges), D(0))
    out = decision.to_dict()
    assert D(out["charges"]["total"]) == sum((D(line["amount"]) for line in out["charges"]["lines"]), D(0))
    assert D(out["charges"]["total"]) == decision.total


@PROPERTY
@given(plan=st.sampled_from(PLANS), model=st.sampled_from(MODELS), tokens=st.one_of(tokens_strategy, near_threshold))
def test_usage_lines_add_up_to_the_total_and_to_the_rate_card(policy, evaluator, plan, model, tokens):
    decision = evaluator.decide(usage_request(plan, model, tokens))
    assert decision.outcome == "allow"
    lines_add_up(decision)
    value = oracle(policy, model, tokens)
    usage_lines = [line for line in decision.charges if line.kind == "usage"]
    for line in usage_lines:
        assert line.amount == line.unit_price * line.quantity
        assert line.quantity == tokens[line.item]
    if plan == "seat_based":  # P1/P2: the allowance covers part, extra usage bills the rest
        [included] = [line for line in decision.charges if line.kind == "included_usage"]
        extra = [line for line in decision.charges if line.kind == "extra_usage"]
        assert included.value + sum((line.amount for line in extra), D(0)) == value
        assert decision.total == sum((line.amount for line in extra), D(0))
    else:
        assert decision.total == value
        assert {line.item for line in usage_lines} == {c for c in CLASSES if tokens.get(c)}


def test_haiku_45_input_token_costs_a_millionth_not_zero(evaluator):
    decision = evaluator.decide(usage_request("enterprise_sales_assisted", "claude-haiku-4-5", {"input": 1}))
    assert decision.total == D("0.000001")
    assert decision.to_dict()["charges"]["total"] == "0.000001"


@PROPERTY
@given(plan=st.sampled_from(PLANS), model=st.sampled_from(MODELS), tokens=st.one_of(tokens_strategy, near_threshold),
       token_class=st.sampled_from(CLASSES), more=st.integers(1, 300_000))
@example(plan="enterprise_sales_assisted", model="claude-sonnet-4", tokens={"input": 200_000},
         token_class="input", more=1)
@example(plan="enterprise_sales_assisted", model="claude-sonnet-4-5", tokens={"input": 199_999, "output": 10},
         token_class="cache_read", more=2)
def test_more_tokens_never_cost_less(evaluator, plan, model, tokens, token_class, more):
    before = evaluator.decide(usage_request(plan, model, tokens)).total
    bigger = {**tokens, token_class: tokens.get(token_class, 0) + more}
    after = evaluator.decide(usage_request(plan, model, bigger)).total
    assert after >= before, (tokens, bigger, before, after)


@pytest.mark.parametrize("model", ["claude-sonnet-4", "claude-sonnet-4-5"])
def test_crossing_the_long_context_threshold_jumps_the_price_up(evaluator, model):
    def total(input_tokens):
        return evaluator.decide(usage_request("enterprise_sales_assisted", model,
                                              {"input": input_tokens, "output": 1000})).total
    assert total(200_000) == D(200_000) * 3 / 10**6 + D(1000) * 15 / 10**6 == D("0.615")
    assert total(200_001) == D(200_001) * 6 / 10**6 + D(1000) * D("22.50") / 10**6 == D("1.222506")
    assert total(200_001) > total(200_000)


ANNUAL_SEAT_PLANS = [plan for plan in PLANS if plan != "seat_based"]


def _added_seats(evaluator, plan, seat_type, seats, months, as_of, role):
    term_start = add_months(as_of, -(12 - months))
    assert months_remaining(as_of, term_start) == months
    event = {"type": "seats_added", "count": seats}
    if len(SEAT_TYPES[plan]) > 1:
        event["seat_type"] = seat_type
    return evaluator.decide(make(plan, event, as_of=as_of.isoformat(),
                                 organization={"term_start": term_start.isoformat()}, member={"role": role}))


@PROPERTY
@given(plan=st.sampled_from(ANNUAL_SEAT_PLANS), data=st.data(), seats=st.integers(1, 5000),
       months=st.integers(1, 12), as_of=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
       role=st.sampled_from(["primary_owner", "owner", "admin"]))
@example(plan="enterprise_self_serve", data=None, seats=10, months=9, as_of=date(2026, 4, 1), role="owner")
def test_n_seats_for_m_months_cost_n_times_m_times_the_monthly_price(policy, evaluator, plan, data, seats, months,
                                                                     as_of, role):
    """S1/S3: annual seats added mid-term are charged for every month left."""
    seat_type = data.draw(st.sampled_from(SEAT_TYPES[plan])) if data is not None else SEAT_TYPES[plan][0]
    decision = _added_seats(evaluator, plan, seat_type, seats, months, as_of, role)
    monthly = policy.seat_prices.on(as_of).monthly[seat_type]
    assert decision.outcome == "allow", decision.reasons
    assert decision.total == seats * months * monthly
    [line] = decision.charges
    assert (line.kind, line.item, line.quantity, line.months, line.unit_price) == (
        "seat_fee", seat_type, seats, months, monthly)
    lines_add_up(decision)


@PROPERTY
@given(seat_type=st.sampled_from(SEAT_TYPES["seat_based"]), seats=st.integers(1, 5000),
       months=st.integers(1, 12), as_of=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
       role=st.sampled_from(["primary_owner", "owner", "admin"]))
def test_seat_based_seats_added_cost_one_period_whatever_is_left_of_the_term(policy, evaluator, seat_type, seats,
                                                                            months, as_of, role):
    """D11: a seat-based seat is a monthly fee; one added mid-term pays for its period only."""
    decision = _added_seats(evaluator, "seat_based", seat_type, seats, months, as_of, role)
    monthly = policy.seat_prices.on(as_of).monthly[seat_type]
    assert decision.outcome == "allow", decision.reasons
    assert decision.total == seats * monthly
    [line] = decision.charges
    assert (line.kind, line.item, line.quantity, line.months) == ("seat_fee", seat_type, seats, 1)
    lines_add_up(decision)


@PROPERTY
@given(seats=st.integers(1, 5000), months=st.integers(1, 12),
       as_of=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)))
def test_hipaa_chat_seats_cost_5_more_per_seat_month(policy, evaluator, seats, months, as_of):
    term_start = add_months(as_of, -(12 - months))
    decision = evaluator.decide(make("legacy_chat_code", {"type": "seats_added", "count": seats, "seat_type": "chat",
                                                          "hipaa": True}, as_of=as_of.isoformat(),
                                     organization={"term_start": term_start.isoformat()}, member={"role": "admin"}))
    prices = policy.seat_prices.on(as_of)
    assert decision.total == seats * months * (prices.monthly["chat"] + prices.hipaa_addon_monthly["chat"])
    assert prices.hipaa_addon_monthly["chat"] == 5
    lines_add_up(decision)


def test_s3_example_ten_seats_from_april_in_a_january_term(evaluator):
    decision = evaluator.decide(make("enterprise_self_serve", {"type": "seats_added", "count": 10},
                                     as_of="2026-04-01", member={"role": "owner"}))
    assert decision.total == 10 * 9 * D(60)
    assert decision.charges[0].months == 9


# Every amount in every decision is a Decimal.

amount = st.decimals(min_value=0, max_value=5000, places=2).map(str)


@st.composite
def valid_requests(draw):
    plan = draw(st.sampled_from(PLANS))
    role = draw(st.sampled_from(["primary_owner", "owner", "admin", "member"]))
    seat_type = draw(st.sampled_from(SEAT_TYPES[plan]))
    kind = draw(st.sampled_from(["usage_precheck", "usage", "seats_added", "seat_removal", "limit_change",
                                 "credit_purchase", "disable_usage_billing", "period_start", "seat_type_change"]))
    event = {"type": kind}
    if kind == "usage_precheck":
        event.update(product=draw(st.sampled_from(["chat", "claude_code", "cowork"])))
        if draw(st.booleans()):
            event["estimate"] = draw(amount)
    elif kind == "usage":
        event.update(product="chat", model=draw(st.sampled_from(MODELS)), tokens=draw(tokens_strategy))
    elif kind in ("seats_added", "seat_removal"):
        event.update(count=draw(st.integers(1, 100)), seat_type=draw(st.sampled_from(SEAT_TYPES[plan])))
    elif kind == "limit_change":
        event.update(level=draw(st.sampled_from(["organization", "individual", "seat_type"])),
                     limit=draw(st.one_of(amount, st.just("unlimited"))))
    elif kind == "credit_purchase":
        event.update(amount=draw(st.decimals(min_value=1, max_value=5000, places=2).map(str)))
    elif kind == "seat_type_change":
        event.update({"from": draw(st.sampled_from(SEAT_TYPES[plan])), "to": draw(st.sampled_from(SEAT_TYPES[plan]))})
    limit = st.one_of(amount, st.just("unlimited"))
    override = {
        "organization": {"spend": draw(amount), "limit": draw(limit), "credit_balance": draw(amount),
                         "notified_pct": draw(st.sampled_from([0, 50, 80]))},
        "member": {"role": role, "spend": draw(amount), "limit": draw(limit)},
    }
    if plan == "enterprise_sales_assisted" or plan == "legacy_chat_code" and draw(st.booleans()):
        del override["organization"]["credit_balance"]
    if plan == "legacy_chat_code":
        override["channel"] = "self_serve" if "credit_balance" in override["organization"] else "sales_assisted"
        override["seat_type_pool"] = {"spend": draw(amount), "limit": draw(limit)}
    if plan in SEAT_PLAN:
        override["member"]["seat_type"] = seat_type
    if plan == "seat_based":
        del override["organization"]["credit_balance"]
        override["member"]["included_used"] = draw(amount)
        override["organization"]["extra_usage"] = draw(st.booleans())
        del override["member"]["limit"]
    request = make(plan, event, **override)
    if kind == "seat_removal":  # a removal takes at most the seats held
        held = request["organization"]["seats"].get(event["seat_type"], 1)
        request["event"]["count"] = max(1, min(event["count"], held))
    if plan in ("enterprise_self_serve", "enterprise_sales_assisted") and kind == "seats_added":
        request["event"].pop("seat_type", None)
    return request


@PROPERTY
@given(request=valid_requests())
def test_amounts_are_decimal_never_float(evaluator, request):
    decision = evaluator.decide(request)
    assert floats_in(decision) == []
    assert floats_in(decision.to_dict(explain=True)) == []
    found = amounts_in(decision)
    assert all(isinstance(v, Decimal) and v.is_finite() for _, v in found)
    for line in decision.charges:
        assert isinstance(line.amount, Decimal) and isinstance(line.unit_price, Decimal)
    lines_add_up(decision)
    if decision.outcome != "allow":
        assert decision.charges == [] and decision.changes == []
