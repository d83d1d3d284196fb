"""The reasoning under `tariff validate`'s rule checks.

Lint reads which facts a decision carries (per plan, event type and channel)
from the event table (engine/events.py); these tests hold the table to what
engine/evaluate/context.py really builds, so a new fact or a changed one
cannot make lint silently wrong.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tariff.engine import load_policy_set
from tariff.engine.evaluate.context import build_context
from tariff.engine.load.conditions import parse_condition
from tariff.engine.events import EVENT_TYPES, facts_provided
from tariff.engine.tools.lint import ALWAYS, dnf, implies, plan_scope
from tariff.engine.evaluate.request import parse_request
from tariff.engine.load.where import Where
from tariff.engine.load.yaml_source import parse

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy_set(ROOT / "policies")


def _events(plan):
    seat_types = list(plan.seat_types)
    first, last = seat_types[0], seat_types[-1]
    return {
        "usage_precheck": {"product": "chat", "estimate": "1", "model": "claude-haiku-4-5"},
        "usage": {"product": "chat", "model": "claude-haiku-4-5", "tokens": {"input": 10}},
        "seats_added": {"count": 2, "seat_type": first, "hipaa": False},
        "seat_removal": {"count": 1, "seat_type": first},
        "seat_type_change": {"from": first, "to": last},
        "limit_change": {"level": "organization", "limit": "200"},
        "credit_purchase": {"amount": "50"},
        "auto_top_up_change": {"amount": "50"},
        "credits_forecast": {"days_left": 5},
        "limit_forecast": {"level": "organization", "days_left": 5},
        "member_add": {"new_role": "admin"},
        "member_role_change": {"new_role": "owner", "target_role": "admin"},
        "member_removal": {"target_role": "member"},
        "owner_transfer": {"target_role": "owner"},
    }


def _requests(plan, event, channel):
    """The fullest request of this kind, and the barest one the engine accepts."""
    seat_type = next(iter(plan.seat_types))
    details = _events(plan).get(event, {})
    full = {
        "plan": plan.id, "as_of": "2026-04-10", "channel": channel,
        "organization": {"id": "o-1", "term_start": "2026-01-01", "credit_balance": "100", "spend": "10",
                         "limit": "100", "notified_pct": 0, "seats": {seat_type: 5}, "extra_usage": True},
        "seat_type_pool": {"spend": "1", "limit": "20"},
        "member": {"id": "m-1", "role": "owner", "seat_type": seat_type, "spend": "1", "limit": "50",
                   "included_used": "0"},
        "event": {"type": event, **details},
    }
    if event == "renewal":
        full["as_of"] = "2027-01-01"  # a renewal happens when the term ends
    bare = copy.deepcopy(full)
    bare["organization"] = {"spend": "10", "credit_balance": "100"}
    if event in ("seats_added", "seat_removal", "seat_type_change", "renewal"):
        bare["organization"]["term_start"] = "2026-01-01"
    if event == "renewal":
        bare["organization"]["seats"] = {seat_type: 5}
    del bare["seat_type_pool"]
    bare["member"] = {"role": "member", "seat_type": seat_type, "spend": "1", "included_used": "0"}
    needed = set(EVENT_TYPES[event].required) | ({"seat_type"} if len(plan.seat_types) > 1 else set())
    bare["event"] = {"type": event, **{k: v for k, v in details.items() if k in needed}}
    return full, bare


CONTEXTS = [pytest.param(plan, event, channel, id=f"{plan.id}-{event}-{channel}")
            for plan in POLICY.plans.values() for event in sorted(plan.events) for channel in plan.channels]


@pytest.mark.parametrize("plan,event,channel", CONTEXTS)
def test_tools_lint_fact_table_matches_the_engine(plan, event, channel):
    provided = facts_provided(event, plan, channel)
    full, bare = _requests(plan, event, channel)
    full_facts = build_context(POLICY, parse_request(full)).fact
    bare_facts = build_context(POLICY, parse_request(bare)).fact
    assert set(full_facts) - {"sid"} <= set(provided), "the engine provides a fact lint thinks it never does"
    always = {name for name, how in provided.items() if how == ALWAYS}
    assert always <= set(bare_facts), "lint thinks a fact is always there, but a bare request lacks it"


def _dnf(yaml_text):
    doc, findings = parse(yaml_text, "t.yaml")
    assert not findings
    node, problems = parse_condition(doc.data, Where(doc.positions))
    assert not problems
    return dnf(node)


def test_tools_lint_implication_follows_ranges_and_sets():
    plan = POLICY.plans["legacy_chat_code"]
    scope = plan_scope(POLICY.vocabulary, plan, "usage_precheck", "self_serve")
    narrow = _dnf("organization_spend: {gte: 100}\nrole: owner\n")[0]
    wide = _dnf("organization_spend: {gt: 50}\nrole: {in: [owner, primary_owner]}\n")[0]
    assert implies(narrow, wide, scope)
    assert not implies(wide, narrow, scope)
    # prepaid is always true on the self-serve channel, so any condition implies it there
    assert implies(narrow, _dnf("prepaid: true\n")[0], scope)
    sales = plan_scope(POLICY.vocabulary, plan, "usage_precheck", "sales_assisted")
    assert not implies(narrow, _dnf("prepaid: true\n")[0], sales)


def test_tools_lint_a_maybe_absent_fact_is_not_implied():
    plan = POLICY.plans["enterprise_self_serve"]
    scope = plan_scope(POLICY.vocabulary, plan, "usage_precheck", "self_serve")
    nothing = _dnf("prepaid: true\n")[0]
    assert not implies(nothing, _dnf("organization_limit: {exists: true}\n")[0], scope)
    assert implies(_dnf("organization_limit: {gte: 5}\n")[0], _dnf("organization_limit: {exists: true}\n")[0], scope)


def test_tools_lint_field_comparisons():
    plan = POLICY.plans["enterprise_self_serve"]
    scope = plan_scope(POLICY.vocabulary, plan, "usage_precheck", "self_serve")
    gte = _dnf("organization_spend: {gte: {field: organization_limit}}\n")[0]
    reversed_lte = _dnf("organization_limit: {lte: {field: organization_spend}}\n")[0]
    gt = _dnf("organization_spend: {gt: {field: organization_limit}}\n")[0]
    assert implies(gte, reversed_lte, scope) and implies(reversed_lte, gte, scope)
    assert implies(gt, gte, scope) and not implies(gte, gt, scope)
