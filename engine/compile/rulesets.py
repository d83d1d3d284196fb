"""A validated PolicySet to durable_rules rulesets: one per plan and event
type, so a decision only meets the few rules that can apply to it (the
engine's cost grows with the rules it holds and fires)."""
from __future__ import annotations

from ..load.policy_set import PolicySet


def ruleset_name(policy: PolicySet, plan: str, event: str) -> str:
    return f"{plan}.{event}.{policy.version[:16]}"


def compile_rulesets(policy: PolicySet) -> dict[str, dict]:
    """Ruleset name -> {rule id: durable_rules condition (None: always)}."""
    out = {}
    for plan in policy.plans.values():
        for event in plan.events:
            out[ruleset_name(policy, plan.id, event)] = {r.id: r.condition for r in plan.rules_for(event)}
    return out
