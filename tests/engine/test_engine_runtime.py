"""engine.evaluate.runtime: the one way into durable_rules. Facts fire every matching
rule, nothing is left behind in the engine, one lock, registration once."""
from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from durable import engine as durable

from tariff.engine import Evaluator
from tariff.engine.compile.rulesets import compile_rulesets, ruleset_name
from tariff.engine.evaluate.context import build_context
from tariff.engine.evaluate.request import parse_request
from tariff.engine.evaluate.runtime import CATCH_ALL, EngineError, Runtime
from engine_testkit import make, precheck, usage

_names = itertools.count()


def fresh_name(prefix="rt"):
    return f"test_runtime_{prefix}_{next(_names)}"


@pytest.fixture
def runtime():
    return Runtime()


def state_exists(runtime: Runtime, name: str, sid: str) -> bool:
    """Whether durable_rules still holds state for ``sid`` (it answers 309: sid not found)."""
    try:
        runtime._rulesets[name].get_state(sid)
        return True
    except durable.durable_rules_engine.error as exc:
        assert "309" in str(exc), exc
        return False


def test_a_fact_fires_every_rule_it_matches_not_only_the_first(runtime):
    name = fresh_name()
    runtime.register(name, {
        "more_than_one": {"$gt": {"count": 1}},
        "more_than_two": {"$gt": {"count": 2}},
        "always": None,
        "more_than_a_hundred": {"$gt": {"count": 100}},
    })
    assert sorted(runtime.evaluate(name, {"event": "x", "count": 5})) == ["always", "more_than_one", "more_than_two"]
    assert runtime.evaluate(name, {"event": "x", "count": 0}) == ["always"]


def test_a_fact_no_rule_matches_meets_the_catch_all_and_fires_nothing(runtime):
    name = fresh_name()
    runtime.register(name, {"owner_only": {"role": "owner"}})
    for _ in range(3):  # and again: nothing was left behind by the first
        assert runtime.evaluate(name, {"event": "x", "role": "member"}) == []
    assert CATCH_ALL not in runtime.evaluate(name, {"event": "x", "role": "owner"})


def test_no_state_is_left_behind(runtime):
    name = fresh_name()
    runtime.register(name, {"always": None})
    ruleset = runtime._rulesets[name]
    # control: a fact asserted by hand (and its actions run, as the runtime
    # does: delete_state with actions pending can segfault) leaves state...
    handle = ruleset.assert_fact({"event": "x", "sid": "control"})
    ruleset.do_actions(handle, lambda error, state: None)
    assert state_exists(runtime, name, "control")
    ruleset.delete_state("control")
    assert not state_exists(runtime, name, "control")
    # ...while each evaluation deletes its own, under a fresh sid
    for i in range(1, 6):
        assert runtime.evaluate(name, {"event": "x"}) == ["always"]
        assert not state_exists(runtime, name, str(i))
    assert next(runtime._sids) == 6


def test_the_fact_keeps_no_sid_of_the_caller(runtime):
    name = fresh_name()
    runtime.register(name, {"always": None})
    assert runtime.evaluate(name, {"event": "x", "sid": "caller"}) == ["always"]
    assert not state_exists(runtime, name, "caller")
    assert not state_exists(runtime, name, "1")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_twenty_thousand_decisions_leave_nothing_behind(policy):
    """Without delete_state durable_rules runs out of session state after 1,000
    to 2,000 sids (MemoryError, once a segfault); every decision here uses a
    fresh sid, and afterwards the runtime still decides correctly."""
    runtime = Runtime()
    evaluator = Evaluator(policy, runtime=runtime)
    requests = [
        make("enterprise_self_serve", precheck(), organization={"credit_balance": "0"}),
        make("enterprise_sales_assisted", usage(input=10_000, output=500),
             organization={"spend": "90", "limit": "100"}),
        make("legacy_chat_code", precheck(product="claude_code"), member={"seat_type": "chat"}),
        make("seat_based", {"type": "period_start"}),
    ]
    expected = [evaluator.decide(r).to_dict(explain=True) for r in requests]
    # the engine's own part of a decision, 20,000 times: context to facts, facts through durable_rules
    prepared = [build_context(policy, parse_request(r)) for r in requests]
    names = [ruleset_name(policy, c.plan.id, c.event["type"]) for c in prepared]
    fired_first = [sorted(runtime.evaluate(n, c.fact)) for n, c in zip(names, prepared)]
    start_sid = next(runtime._sids)
    rss_before = rss_mb()
    for i in range(20_000):
        k = i % len(prepared)
        fired = runtime.evaluate(names[k], prepared[k].fact)
        if i % 997 == 0:
            assert sorted(fired) == fired_first[k]
    assert next(runtime._sids) == start_sid + 20_001  # a fresh sid for every one
    assert rss_mb() - rss_before < 20, "memory grew with the number of decisions"
    for i in range(0, 20_000, 1000):  # no state under any of the sids used
        assert not state_exists(runtime, names[i % len(names)], str(start_sid + i))
    assert [evaluator.decide(r).to_dict(explain=True) for r in requests] == expected


def test_registering_a_ruleset_twice_is_a_no_op(runtime):
    name = fresh_name()
    runtime.register(name, {"first": None})
    before = dict(runtime._rulesets)
    runtime.register(name, {"second": None})  # durable_rules cannot replace or delete a ruleset
    assert runtime._rulesets == before
    assert runtime.evaluate(name, {"event": "x"}) == ["first"]
    assert runtime.has(name) and not runtime.has(fresh_name())


def test_a_second_evaluator_on_the_same_policy_registers_nothing_new(policy):
    runtime = Runtime()
    Evaluator(policy, runtime=runtime)
    registered = dict(runtime._rulesets)
    assert set(registered) == set(compile_rulesets(policy))
    Evaluator(policy, runtime=runtime)
    assert runtime._rulesets == registered


def test_rulesets_are_scoped_by_plan_and_event(policy):
    rulesets = compile_rulesets(policy)
    for plan in policy.plans.values():
        for event in plan.events:
            rules = rulesets[ruleset_name(policy, plan.id, event)]
            assert set(rules) == {r.id for r in plan.rules if event in r.on}


def test_rule_actions_are_collected_never_run(runtime, monkeypatch):
    """Matching rules are read off durable_rules' action queue; no Python action runs."""
    def failing_action(name):
        def action(c):
            raise RuntimeError("boom")
        return action
    monkeypatch.setattr(runtime, "get_action", failing_action)
    name = fresh_name()
    runtime.register(name, {"explodes": None, "big": {"$gt": {"amount": 10}}})
    assert sorted(runtime.evaluate(name, {"event": "x", "amount": 11})) == ["big", "explodes"]
    assert runtime.evaluate(name, {"event": "x", "amount": 1}) == ["explodes"]


def test_a_fact_durable_rules_cannot_read_is_an_engine_error(runtime):
    name = fresh_name()
    runtime.register(name, {"always": None})
    with pytest.raises(EngineError):
        runtime.evaluate(name, {"event": "x", "amount": float("inf")})


def test_eight_threads_deciding_at_once_get_what_one_thread_gets():
    """Unlocked, eight threads segfault durable_rules within a second; the
    runtime's lock must make them safe. Run in a child so a crash fails this
    test instead of killing pytest."""
    worker = Path(__file__).with_name("engine_fuzz_worker.py")
    proc = subprocess.run([sys.executable, str(worker), "threads", "150"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
