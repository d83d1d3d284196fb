"""tariff's policy engine: YAML rule sets compiled into durable_rules.

The public face, all that api/, storage/ and cli/ import:

    policy = load_policy_set("policies")     # PolicyError lists every finding
    evaluator = Evaluator(policy)
    decision = evaluator.decide(request)     # InputError names the bad field
    decision.to_dict(explain=True)

    verdict = check_policies("policies", fixtures=["fixtures"])   # validate, lint, run fixtures

The vocabulary the engine decides in (levels, roles, channels, token
classes, events), the request schema that documents a decision request,
the billing calendar (``periods``) and exact money (``money``) are here
too, so nothing outside re-declares them. This package knows nothing of
HTTP or databases.
"""
from . import money, periods
from .errors import InputError
from .evaluate.decision import Decision
from .evaluate.evaluator import Evaluator
from .evaluate.request import CHANNELS, ROLES, UNLIMITED, Limit, Money, RequestSchema, TokensSchema
from .evaluate.runtime import EngineError
from .facts import EVENTS, LEVELS
from .findings import Finding, Location, PolicyError
from .load.policy_set import PolicySet, load_policy_set
from .load.rate_card import TOKEN_CLASSES
from .tools.check import Check, FixtureReport, check_policies, run_fixtures
from .tools.explain import explain
from .tools.replay import EventsError, Replayer, read_events, replay
from .tools.verify import fixture_files, load_cases

__all__ = [
    # loading and checking a policy set
    "Check", "Finding", "FixtureReport", "Location", "PolicyError", "PolicySet", "check_policies",
    "load_policy_set", "run_fixtures",
    # deciding
    "Decision", "EngineError", "Evaluator", "InputError",
    # the request and its vocabulary
    "CHANNELS", "EVENTS", "LEVELS", "Limit", "Money", "RequestSchema", "ROLES", "TOKEN_CLASSES", "TokensSchema",
    "UNLIMITED",
    # the billing calendar and exact money
    "money", "periods",
    # tools over a loaded set
    "EventsError", "Replayer", "explain", "read_events", "replay",
    # scenario fixtures
    "fixture_files", "load_cases",
]
