"""engine.decision: assembling a Decision from the rules that fired. Deny by
default, a refusal beats a block beats an allow, and charges, changes,
notifications and transitions only stand on an allow."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from tariff.engine import InputError
from tariff.engine.evaluate.context import build_context
from tariff.engine.evaluate.decision import DEFAULT_DENY, assemble
from tariff.engine.load.effects import Action, Effects
from tariff.engine.findings import Location
from tariff.engine.load.policy_set import Rule
from tariff.engine.evaluate.request import parse_request
from engine_testkit import copy_policies, make, precheck, usage

D = Decimal


def rule(rule_id, line=1, cites=("L3",), **effects) -> Rule:
    return Rule(rule_id, tuple(cites), ("usage",), None, Effects(**effects), Location("t.yaml", line, 5), "t.yaml")


def context(policy, request):
    return build_context(policy, parse_request(request))


@pytest.fixture
def usage_ctx(policy):
    return context(policy, make("enterprise_sales_assisted", usage(input=1_000_000),
                                organization={"spend": "90", "limit": "100"},
                                member={"spend": "10", "limit": "50"}))


CHARGE = (Action("usage"),)
NOTIFY = (Action("spend_threshold", (("level", "organization"), ("threshold_pct", 80))),)
TRANSITION = Action("period_reset", (("date", "$period_start"),))
APPLY = ("record_usage",)


def test_no_rule_fired_is_a_refusal_deny_by_default(usage_ctx):
    decision = assemble(usage_ctx, [])
    assert decision.outcome == "refuse"
    assert decision.reasons == [{"code": DEFAULT_DENY, "rule": None, "cites": []}]
    assert decision.charges == [] and decision.changes == [] and decision.trace == []


def test_rules_that_fire_without_allowing_are_still_a_refusal(usage_ctx):
    decision = assemble(usage_ctx, [rule("charges_only", charge=CHARGE, apply=APPLY, notify=NOTIFY)])
    assert decision.outcome == "refuse" and decision.reason_codes == [DEFAULT_DENY]
    assert decision.charges == [] and decision.changes == [] and decision.notifications == []


def test_an_allow_carries_its_charges_changes_notifications_and_transition(usage_ctx):
    decision = assemble(usage_ctx, [rule("ok", allow=True, charge=CHARGE, apply=APPLY, notify=NOTIFY,
                                         transition=TRANSITION)])
    assert decision.outcome == "allow" and decision.reasons == []
    assert decision.total == D(1)  # 1,000,000 Haiku 4.5 input tokens at 1 USD per million
    assert [c["change"] for c in decision.changes] == ["record_usage"]
    assert decision.notifications == [{"type": "spend_threshold", "level": "organization", "threshold_pct": 80,
                                       "spend": D(91), "limit": D(100)}]
    assert decision.transition == {"type": "period_reset", "date": date(2026, 4, 1)}


def test_a_block_beats_an_allow_and_nothing_else_stands(usage_ctx):
    decision = assemble(usage_ctx, [
        rule("ok", allow=True, charge=CHARGE, apply=APPLY, notify=NOTIFY, transition=TRANSITION),
        rule("limit", line=9, block="org_limit_reached",
             resume=(Action("raise_limit", (("level", "organization"),)),)),
    ])
    assert decision.outcome == "block"
    assert decision.reason_codes == ["org_limit_reached"]
    assert decision.charges == [] and decision.total == 0
    assert decision.changes == [] and decision.notifications == [] and decision.transition is None
    assert decision.resume == [{"action": "raise_limit", "level": "organization"}]


def test_a_refusal_beats_a_block_and_lists_refusals_first(usage_ctx):
    decision = assemble(usage_ctx, [
        rule("ok", allow=True, charge=CHARGE),
        rule("blocked", line=5, block="credits_exhausted", resume=(Action("buy_credits"),)),
        rule("refused", line=9, refuse="role_not_allowed", resume=(Action("ask_owner"),)),
    ])
    assert decision.outcome == "refuse"
    assert decision.reason_codes == ["role_not_allowed", "credits_exhausted"]
    assert decision.resume == [{"action": "buy_credits"}, {"action": "ask_owner"}]
    assert decision.charges == []


def test_resume_options_are_resolved_from_context_and_given_once(usage_ctx):
    wait = Action("wait_for_period", (("date", "$next_period_start"),))
    decision = assemble(usage_ctx, [
        rule("a", block="org_limit_reached", resume=(Action("raise_limit", (("level", "organization"),)), wait)),
        rule("b", line=2, block="individual_limit_reached",
             resume=(Action("raise_limit", (("level", "individual"),)), wait)),
    ])
    assert decision.resume == [{"action": "raise_limit", "level": "organization"},
                               {"action": "wait_for_period", "date": date(2026, 5, 1)},
                               {"action": "raise_limit", "level": "individual"}]


def test_limit_reasons_name_their_level_limit_and_spend(usage_ctx):
    decision = assemble(usage_ctx, [rule("a", block="org_limit_reached"),
                                    rule("b", line=2, block="individual_limit_reached")])
    assert decision.reasons == [
        {"code": "org_limit_reached", "rule": "a", "cites": ["L3"], "level": "organization", "limit": D(100),
         "spend": D(90)},
        {"code": "individual_limit_reached", "rule": "b", "cites": ["L3"], "level": "individual", "limit": D(50),
         "spend": D(10)},
    ]


def test_the_trace_names_every_fired_rule_with_its_place(usage_ctx):
    decision = assemble(usage_ctx, [rule("ok", line=3, allow=True), rule("also", line=7, cites=("U1", "U2"))])
    assert decision.trace == [
        {"rule": "ok", "cites": ["L3"], "file": "t.yaml", "line": 3, "column": 5},
        {"rule": "also", "cites": ["U1", "U2"], "file": "t.yaml", "line": 7, "column": 5},
    ]
    assert "trace" not in decision.to_dict() and decision.to_dict(explain=True)["trace"] == decision.trace


def test_the_binding_limit_is_the_one_with_least_headroom(policy):
    """L3: org 100 with 30 spent (70 left), member 20 with 12 spent (8 left)."""
    ctx = context(policy, make("enterprise_self_serve", precheck(), organization={"spend": "30", "limit": "100"},
                               member={"spend": "12", "limit": "20"}))
    assert assemble(ctx, [rule("ok", allow=True)]).binding_limit == {
        "level": "individual", "limit": D(20), "spend": D(12), "headroom": D(8)}


def test_the_binding_limit_of_a_usage_counts_the_usage(usage_ctx):
    # org 100 with 90 + 1 = 91 spent (9 left); member 50 with 10 + 1 (39 left)
    assert assemble(usage_ctx, [rule("ok", allow=True)]).binding_limit == {
        "level": "organization", "limit": D(100), "spend": D(91), "headroom": D(9)}


def test_a_spent_limit_has_zero_headroom_never_negative(policy):
    ctx = context(policy, make("enterprise_sales_assisted", precheck(), organization={"spend": "130", "limit": "100"}))
    assert assemble(ctx, []).binding_limit["headroom"] == 0


def test_no_limit_or_unlimited_binds_nothing(policy):
    ctx = context(policy, make("enterprise_sales_assisted", precheck()))
    assert assemble(ctx, [rule("ok", allow=True)]).binding_limit is None


def test_the_three_levels_of_legacy_chat_code(policy):
    ctx = context(policy, make("legacy_chat_code", precheck(), organization={"spend": "10", "limit": "1000"},
                               seat_type_pool={"spend": "95", "limit": "100"}, member={"spend": "1", "limit": "50"}))
    assert assemble(ctx, [rule("ok", allow=True)]).binding_limit["level"] == "seat_type"


def test_to_dict_is_json_with_amounts_as_exact_text(usage_ctx):
    decision = assemble(usage_ctx, [rule("ok", allow=True, charge=CHARGE, apply=APPLY, notify=NOTIFY,
                                         transition=TRANSITION)])
    out = decision.to_dict(explain=True)
    assert json.loads(json.dumps(out)) == out  # plain JSON types only
    assert out["charges"] == {"lines": [{"kind": "usage", "item": "input", "quantity": 1_000_000,
                                         "unit_price": "0.000001", "amount": "1", "model": "claude-haiku-4-5",
                                         "tier": "standard"}], "total": "1"}
    assert out["binding_limit"] == {"level": "organization", "limit": "100", "spend": "91", "headroom": "9"}
    assert out["transition"] == {"type": "period_reset", "date": "2026-04-01"}
    assert out["as_of"] == "2026-04-10"


# Through the whole engine.

def test_a_blocked_precheck_through_the_engine(evaluator):
    decision = evaluator.decide(make("enterprise_self_serve", precheck(), organization={"credit_balance": "0"}))
    assert decision.outcome == "block" and decision.reason_codes == ["credits_exhausted"]
    assert decision.resume == [{"action": "buy_credits"}]
    assert {t["rule"] for t in decision.trace} >= {"usage_allowed", "credits_exhausted"}


def test_a_rule_whose_any_branches_all_hold_applies_once(evaluator):
    """durable_rules fires a rule once per true branch of an `any:` ($or)."""
    decision = evaluator.decide(make("enterprise_self_serve", precheck(estimate="5"),
                                     organization={"credit_balance": "0", "spend": "120", "limit": "100"}))
    assert decision.reason_codes == ["credits_exhausted", "org_limit_reached"]
    assert len(decision.trace) == len({t["rule"] for t in decision.trace})


def test_a_charging_rule_with_any_charges_once(tmp_path):
    from tariff.engine import Evaluator, load_policy_set
    root = copy_policies(tmp_path)
    path = root / "rules" / "usage.yaml"
    text = path.read_text()
    old = "  - id: pooled_usage_charged\n    cites: [U1, U2, U4, A1, R4]\n    on: [usage]\n"
    assert old in text
    path.write_text(text.replace(old, old + "    when:\n      any:\n        - prepaid: false\n"
                                 "        - extra_usage: false\n"))
    evaluator = Evaluator(load_policy_set(root))
    decision = evaluator.decide(make("enterprise_sales_assisted", usage(input=1_000_000)))  # both branches hold
    assert decision.total == D(1)
    assert [c["change"] for c in decision.changes].count("record_usage") == 1


@pytest.mark.parametrize("change, charge", [(("chat", "chat_code"), D(60) * 9), (("chat_code", "chat"), D(0))])
def test_a_seat_type_change_takes_effect_at_once_and_an_upgrade_is_prorated(evaluator, change, charge):
    """S7: an admin changes a member's seat type; a dearer type costs the monthly
    difference for the months left in the term (S3's months: April to December)."""
    old, new = change
    decision = evaluator.decide(make("legacy_chat_code", {"type": "seat_type_change", "from": old, "to": new},
                                     as_of="2026-04-01", member={"role": "admin"}))
    assert decision.outcome == "allow"
    assert decision.changes == [{"change": "change_seat_type", "from": old, "to": new}]
    assert decision.total == charge


def test_a_member_cannot_change_seat_types(evaluator):
    decision = evaluator.decide(make("legacy_chat_code", {"type": "seat_type_change", "from": "chat",
                                                          "to": "chat_code"}))
    assert decision.outcome == "refuse" and decision.reason_codes == ["role_not_allowed"]
    assert decision.charges == [] and decision.changes == []


def test_renewal_charges_the_new_terms_seats_upfront(evaluator):
    """S2: 50 Enterprise seats x 12 months x 60 (example price)."""
    decision = evaluator.decide(make("enterprise_self_serve", {"type": "renewal"}, as_of="2027-01-01",
                                     member={"role": "owner"}))
    assert decision.outcome == "allow" and decision.total == 50 * 12 * D(60)


def test_legacy_renewal_moves_every_seat_to_the_enterprise_seat(evaluator):
    """R1: 20 chat + 10 chat_code seats become 30 Enterprise seats at renewal."""
    decision = evaluator.decide(make("legacy_chat_code", {"type": "renewal"}, as_of="2027-01-01",
                                     member={"role": "owner"}))
    assert decision.outcome == "allow"
    assert decision.total == 30 * 12 * D(60)
    assert decision.transition == {"type": "move_to_enterprise_seat", "plan": "enterprise_sales_assisted",
                                   "date": date(2027, 1, 1), "hipaa_addon_ended": False}


@pytest.mark.parametrize("as_of", ["2027-01-01", "2027-06-15"])
def test_seats_added_after_the_term_ended_are_never_free(evaluator, as_of):
    try:
        decision = evaluator.decide(make("enterprise_self_serve", {"type": "seats_added", "count": 2}, as_of=as_of,
                                         member={"role": "owner"}))
    except InputError:
        return
    assert not (decision.outcome == "allow" and decision.total == 0), decision.to_dict()
