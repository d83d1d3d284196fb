"""tariff's policy engine: YAML rule sets compiled into durable_rules.

The public face, all a caller needs:

    policy = load_policy_set("policies")     # PolicyError lists every finding
    evaluator = Evaluator(policy)
    decision = evaluator.decide(request)     # InputError names the bad field
    decision.to_dict(explain=True)

This package knows nothing of HTTP or databases.
"""
from .decision import Decision
from .errors import InputError
from .evaluator import Evaluator
from .findings import Finding, Location, PolicyError
from .policy_set import PolicySet, load_policy_set
from .runtime import EngineError

__all__ = ["Decision", "EngineError", "Evaluator", "Finding", "InputError", "Location", "PolicyError",
           "PolicySet", "load_policy_set"]
