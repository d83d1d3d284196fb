"""The one way into durable_rules, built around what was measured of it
(CONTRIBUTING.md, "durable_rules: what the runtime is built around"):

- It is not thread-safe: every call into it holds one process-wide lock.
- ``durable.engine.Host`` starts timer threads that call into the engine
  behind our back, so we never make a Host: rulesets are created with
  ``durable.engine.Ruleset`` and driven through its C module directly. That
  also makes a policy reload cost only its new rulesets.
- An event fires only its first matching rule; a fact fires all of them, so a
  decision asserts one fact.
- A fact that matches no rule leaves state that cannot be deleted: every
  ruleset has a catch-all rule on a field every fact has (``event``; never
  ``sid``, which made the engine spin).
- State fills up unless each decision deletes it: we delete after every one,
  once all its actions are taken (deleting with actions pending segfaults).

Rules have no Python actions. durable_rules queues one action per matching
rule; we take them off its queue and keep the rule names. Python-side
callbacks (durable's Promise and Closure, a JSON dump of the state per
action) cost more than the matching itself and bought nothing here.
"""
from __future__ import annotations

import itertools
import threading

from durable import engine as durable

_c = durable.durable_rules_engine  # the C engine behind durable.engine
CATCH_ALL = "__catch_all"
ALWAYS = {"$ex": {"event": 1}}


class EngineError(RuntimeError):
    """durable_rules did not behave as the runtime relies on."""


class Runtime:
    def __init__(self):
        self._lock = threading.Lock()
        self._rulesets: dict[str, durable.Ruleset] = {}
        self._sids = itertools.count(1)

    def get_action(self, name: str):
        """durable.Ruleset asks its host for each rule's action; ours are never run."""
        return _never_run

    def register(self, name: str, rules: dict) -> None:
        """Register a ruleset once: ``rules`` maps rule name -> condition (None: always).

        Rule names are ids of ``[a-z0-9_]`` (the policy schema says so), which
        ``evaluate`` relies on to read them off the engine's messages.
        """
        with self._lock:
            if name in self._rulesets:
                return
            self._rulesets[name] = durable.Ruleset(name, self, ruleset_definition(rules))

    def has(self, name: str) -> bool:
        return name in self._rulesets

    def evaluate(self, name: str, fact: dict) -> list[str]:
        """Assert ``fact``, collect every rule it matches, leave no state.

        Returns the names of the rules that matched (a rule once per true
        branch of an `$or`), without the catch-all.
        """
        ruleset = self._rulesets[name]
        handle = ruleset._handle
        with self._lock:
            sid = str(next(self._sids))
            try:
                state = ruleset.assert_fact({**fact, "sid": sid})
            except durable.MessageNotHandledException as exc:
                # Never delete_state here: on an unmatched fact it segfaults.
                raise EngineError(f"ruleset {name} matched nothing, not even its catch-all") from exc
            except _c.error as exc:  # a fact it cannot read (inf, too many fields)
                raise EngineError(f"ruleset {name} refused the fact: {exc}") from exc
            fired = []
            try:
                started = _c.start_action_for_state(handle, state)
                message = started[1] if started else None
                while message:
                    # A message is {"<rule name>": {...the fact...}}: the name is its first key.
                    fired.append(message[2:message.index('"', 2)])
                    message = _c.complete_and_start_action(handle, state)
            except Exception as exc:
                # The state is left behind on purpose: deleting it with actions
                # still queued segfaults. One leaked state beats a dead process.
                raise EngineError(f"ruleset {name}: {exc}") from exc
            _c.delete_state(handle, sid)
        if CATCH_ALL not in fired:
            raise EngineError(f"ruleset {name}: the catch-all rule did not fire")
        fired.remove(CATCH_ALL)
        return fired


def ruleset_definition(rules: dict) -> dict:
    """The durable_rules ruleset for ``rules`` (rule name -> condition, None: always):
    a rule per condition, each run by the action of its name, and the catch-all."""
    definition = {rule: {"all": [{"m": condition or ALWAYS}], "run": rule} for rule, condition in rules.items()}
    definition[CATCH_ALL] = {"all": [{"m": ALWAYS}], "run": CATCH_ALL}
    return definition


def _never_run(c):
    raise EngineError("rule actions are collected by Runtime.evaluate, never run")


RUNTIME = Runtime()
