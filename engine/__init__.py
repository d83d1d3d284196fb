"""tariff's policy engine: YAML rule sets compiled into durable_rules.

The public face, all that api/, storage/ and cli/ import:

    policy = load_policy_set("policies")     # PolicyError lists every finding
    evaluator = Evaluator(policy)
    decision = evaluator.decide(request)     # InputError names the bad field
    decision.to_dict(explain=True)

    verdict = check_policies("policies", fixtures=["fixtures"])   # validate, lint, run fixtures

The vocabulary the engine decides in (levels, roles, channels, token
classes, events), the request schema that documents a decision request and
its marshmallow parts (Strict, Money, Limit, flatten_messages), the billing
calendar (``periods``) and exact money (``money``) are here too, so nothing
outside re-declares them. This package knows nothing of HTTP or databases.

Inside, one subpackage per stage: load/ (YAML to validated policy objects),
compile/ (condition trees to durable_rules), evaluate/ (a request to a
Decision), tools/ (lint, fixtures, explanations, replays); the tables every
stage reads are at the top (vocabulary.py, facts.py, events.py).
"""
from . import inputs, money, periods
from .errors import InputError
from .evaluate.decision import Decision
from .evaluate.evaluator import Evaluator
from .evaluate.request import RequestSchema, TokensSchema
from .evaluate.runtime import EngineError
from .events import EVENT_TYPES, EVENTS
from .findings import Finding, Location, PolicyError
from .load.policy_set import PolicySet, load_policy_set
from .schema import Limit, Money, Strict, flatten_messages
from .tools.check import Check, FixtureReport, check_policies, run_fixtures
from .tools.explain import explain
from .tools.replay import EventsError, Replayer, read_events, replay
from .tools.verify import failing_expectations, fixture_files, load_cases
from .vocabulary import CHANNELS, LEVELS, ROLES, TOKEN_CLASSES, UNLIMITED

__all__ = [
    # loading and checking a policy set
    "Check", "Finding", "FixtureReport", "Location", "PolicyError", "PolicySet", "check_policies",
    "load_policy_set", "run_fixtures",
    # deciding
    "Decision", "EngineError", "Evaluator", "InputError",
    # the request and its vocabulary
    "CHANNELS", "EVENT_TYPES", "EVENTS", "LEVELS", "Limit", "Money", "RequestSchema", "ROLES", "Strict",
    "TOKEN_CLASSES", "TokensSchema", "UNLIMITED", "flatten_messages",
    # the billing calendar and exact money
    "money", "periods",
    # tools over a loaded set
    "EventsError", "Replayer", "explain", "read_events", "replay",
    # scenario fixtures
    "failing_expectations", "fixture_files", "load_cases",
]
