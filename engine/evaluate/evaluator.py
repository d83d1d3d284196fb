"""Deciding: request in, Decision out, through durable_rules."""
from __future__ import annotations

from ..compile.rulesets import compile_rulesets, ruleset_name
from ..load.policy_set import PolicySet
from .context import build_context
from .decision import Decision, assemble
from .request import parse_request
from .runtime import RUNTIME, Runtime


class Evaluator:
    """Decides requests under one PolicySet. Safe to share between threads."""

    def __init__(self, policy: PolicySet, runtime: Runtime = RUNTIME):
        self.policy = policy
        self.runtime = runtime
        for name, rules in compile_rulesets(policy).items():
            runtime.register(name, rules)
        # Fired rule names back to Rule objects, in the order they are written.
        self._rules = {(plan.id, event): {r.id: (i, r) for i, r in enumerate(plan.rules_for(event))}
                       for plan in policy.plans.values() for event in plan.events}

    def decide(self, payload: dict) -> Decision:
        return self.decide_parsed(parse_request(payload))

    def decide_parsed(self, request: dict) -> Decision:
        ctx = build_context(self.policy, request)
        key = (ctx.plan.id, ctx.event["type"])
        fired = self.runtime.evaluate(ruleset_name(self.policy, *key), ctx.fact)
        rules = self._rules[key]
        # durable_rules fires a rule once per true branch of an `any:`; a rule
        # applies once, so duplicates are dropped.
        decision = assemble(ctx, [r for _, r in sorted(rules[name] for name in set(fired))])
        decision.request = request
        return decision
