"""A validated PolicySet to durable_rules rulesets: one per plan and event
type, so a decision only meets the few rules that can apply to it (the
engine's cost grows with the rules it holds and fires)."""
from __future__ import annotations

from ..load.policy_set import PolicySet
from .conditions import compile_condition


def ruleset_name(policy: PolicySet, plan: str, event: str) -> str:
    return f"{plan}.{event}.{policy.version[:16]}"


def compile_rulesets(policy: PolicySet) -> dict[str, dict]:
    """Ruleset name -> {rule id: durable_rules condition (None: always)}.

    A rule module included by several plans is written once and compiled once."""
    conditions = {}
    out = {}
    for plan in policy.plans.values():
        for event in plan.events:
            rules = plan.rules_for(event)
            for rule in rules:
                key = (rule.location, rule.id)
                if key not in conditions:
                    conditions[key] = compile_condition(rule.when)
            out[ruleset_name(policy, plan.id, event)] = {r.id: conditions[(r.location, r.id)] for r in rules}
    return out
