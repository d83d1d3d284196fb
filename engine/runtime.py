"""The one way into durable_rules, built around what was measured of it
(../shared/DURABLE_RULES.md):

- It is not thread-safe: every call into it holds one process-wide lock.
- ``durable.engine.Host`` starts timer threads that call into the engine
  behind our back, so we keep ``Ruleset`` objects ourselves and never make a
  Host. That also makes a policy reload cost only its new rulesets.
- An event fires only its first matching rule; a fact fires all of them, so a
  decision asserts one fact.
- A fact that matches no rule leaves state that cannot be deleted: every
  ruleset has a catch-all rule on a field every fact has (``event``; never
  ``sid``, which made the engine spin).
- State fills up unless each decision deletes it: we delete after every one.
- Actions that raise are swallowed into the state; ours only record the rule
  name, and the state is checked for an exception anyway.
"""
from __future__ import annotations

import itertools
import threading

from durable import engine as durable

CATCH_ALL = "__catch_all"
ALWAYS = {"$ex": {"event": 1}}


class EngineError(RuntimeError):
    """durable_rules did not behave as the runtime relies on."""


class Runtime:
    def __init__(self):
        self._lock = threading.Lock()
        self._rulesets: dict[str, durable.Ruleset] = {}
        self._fired: list[str] = []
        self._sids = itertools.count(1)

    # durable.Ruleset asks its host for each rule's action by name.
    def get_action(self, name: str):
        if name == CATCH_ALL:
            return _noop

        def record(c):
            self._fired.append(name)  # the list of the decision under way
        return record

    def register(self, name: str, rules: dict) -> None:
        """Register a ruleset once: ``rules`` maps rule name -> condition (None: always)."""
        with self._lock:
            if name in self._rulesets:
                return
            definition = {rule: {"all": [{"m": condition or ALWAYS}], "run": rule}
                          for rule, condition in rules.items()}
            definition[CATCH_ALL] = {"all": [{"m": ALWAYS}], "run": CATCH_ALL}
            self._rulesets[name] = durable.Ruleset(name, self, definition)

    def has(self, name: str) -> bool:
        return name in self._rulesets

    def evaluate(self, name: str, fact: dict) -> list[str]:
        """Assert ``fact``, run every rule it matches, leave no state. Returns fired rule names."""
        ruleset = self._rulesets[name]
        with self._lock:
            fired: list[str] = []
            self._fired = fired
            sid = str(next(self._sids))
            outcome: dict = {}

            def done(error, state):
                outcome["error"], outcome["state"] = error, state

            try:
                handle = ruleset.assert_fact({**fact, "sid": sid})
            except durable.MessageNotHandledException as exc:
                # Never delete_state here: on an unmatched fact it segfaults.
                raise EngineError(f"ruleset {name} matched nothing, not even its catch-all") from exc
            except durable.durable_rules_engine.error as exc:  # a fact it cannot read (inf, too many fields)
                raise EngineError(f"ruleset {name} refused the fact: {exc}") from exc
            try:
                ruleset.do_actions(handle, done)
            finally:
                ruleset.delete_state(sid)
            self._fired = []
        state = outcome.get("state") or {}
        if outcome.get("error") or "exception" in state:
            raise EngineError(f"ruleset {name}: {outcome.get('error') or state['exception']}")
        return fired


def _noop(c):
    pass


RUNTIME = Runtime()
