"""Engine benchmark: decisions per second through Evaluator.decide against raw
durable_rules in the same run, and RSS over N decisions. Prints one JSON line.

    .venv/bin/python bench/bench_engine.py [--decisions N] [--raw-decisions M]
                                     [--distinct K] [--seed S] [--profile P]

The mix is realistic and fixed by the seed: the four plans (self-serve and
sales-assisted Enterprise, legacy Chat / Chat + Claude Code, seat-based),
mostly usage records and prechecks, then seat, limit, credit and period
events. K distinct requests (default 10,000) are generated up front and
decided in turn until N decisions (default 1,000,000) have been made, so
generating them is not timed; the engine caches nothing between decisions.

- ours: ``Evaluator.decide(payload)`` on the request dicts: validation,
  facts, durable_rules (through engine.evaluate.runtime: one lock, fresh sid, state
  deleted), assembly of the Decision.
- raw:  the same rulesets (engine.compile.rulesets.compile_rulesets, plus the
  catch-all rule every fact must match or durable_rules keeps state it cannot
  delete: engine.evaluate.runtime.ruleset_definition) registered as plain ``durable.engine.Ruleset`` objects, the facts
  of the same requests prepared in advance (sid included), each posted with
  ``assert_fact`` + ``do_actions`` + ``delete_state``: no lock, no wrapper.

The two take turns in blocks (``--block``, default 5,000 of ours, then raw's
proportional share) so that other load on the machine weighs on both alike.
RSS (VmRSS of /proc/self/status) is read before the first block and after the
last one.

For reference the line also gives ``raw_queue_rate``: the same facts through
durable_rules' C module with the matched rules read off its action queue, no
Python callbacks (how engine.evaluate.runtime reads them), and ``ratio_vs_queue``.

Targets: ours >= 0.5 x raw (ratio), RSS growth < 20 MB over the N decisions.
``--breakdown B`` also times B decisions stage by stage (parse_request,
build_context, runtime.evaluate, assemble, ...) interleaved with raw posts,
and ``--profile P`` profiles P decisions of ours with cProfile; both write to
stderr (stdout keeps its one JSON line).
"""
from __future__ import annotations

import os
import sys

import argparse
import cProfile
import gc
import io
import json
import platform
import pstats
import random
import time
from collections import Counter
from datetime import date, timedelta

from durable import engine as durable

from tariff.engine import Evaluator, InputError, load_policy_set
from tariff.engine.compile.rulesets import compile_rulesets, ruleset_name
from tariff.engine.evaluate.context import build_context
from tariff.engine.evaluate.request import parse_request
from tariff.engine.evaluate.runtime import CATCH_ALL, ruleset_definition

_HERE = os.path.dirname(os.path.abspath(__file__))
POLICIES = os.path.join(os.path.dirname(_HERE), "policies")
TARGET_RATIO = 0.5
TARGET_RSS_GROWTH_MB = 20

PLANS = [("enterprise_self_serve", 40), ("enterprise_sales_assisted", 30), ("legacy_chat_code", 20),
         ("seat_based", 10)]
EVENTS = [("usage", 550), ("usage_precheck", 300), ("limit_change", 40), ("seats_added", 30),
          ("period_start", 30), ("credit_purchase", 20), ("seat_removal", 20), ("seat_type_change", 10)]
MODELS = [("claude-sonnet-4-5", 35), ("claude-haiku-4-5", 30), ("claude-opus-4-5", 10), ("claude-sonnet-4", 10),
          ("claude-sonnet-4-6", 10), ("claude-opus-4-1", 5)]
ROLES = [("member", 80), ("admin", 10), ("owner", 8), ("primary_owner", 2)]
PRODUCTS = [("chat", 60), ("claude_code", 35), ("cowork", 5)]


def pick(rng, weighted):
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def money(rng, low, high) -> str:
    return f"{rng.uniform(low, high):.2f}"


def limit(rng, low, high) -> str:
    return "unlimited" if rng.random() < 0.3 else money(rng, low, high)


def make_request(rng, plans) -> dict:
    plan = pick(rng, PLANS)
    channel = rng.choice(plans[plan].channels)  # seat types and channels as the policy defines them
    seat_types = list(plans[plan].seat_types)
    as_of = date(2026, 3, 1) + timedelta(days=rng.randrange(120))
    term_start = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 59))
    org_spend = money(rng, 0, 4000)
    organization = {"id": f"org-{rng.randrange(2000)}", "term_start": term_start.isoformat(), "spend": org_spend,
                    "limit": limit(rng, 500, 5000), "notified_pct": rng.choice([0, 0, 50, 80]),
                    "seats": {t: rng.randrange(5, 200) for t in seat_types}}
    if channel in ("self_serve",) and plan != "seat_based":
        organization["credit_balance"] = money(rng, -5, 2000) if rng.random() < 0.9 else "0"
    if plan == "seat_based":
        organization["extra_usage"] = rng.random() < 0.6
    member = {"id": f"m-{rng.randrange(100000)}", "role": pick(rng, ROLES), "spend": money(rng, 0, 300),
              "limit": limit(rng, 50, 500), "notified_pct": rng.choice([0, 0, 0, 50, 80])}
    if len(seat_types) > 1:
        member["seat_type"] = rng.choice(seat_types)
    if plan == "seat_based":
        member["included_used"] = money(rng, 0, 120)
        del member["limit"]
    request = {"plan": plan, "channel": channel, "as_of": as_of.isoformat(), "organization": organization,
               "member": member}
    if plan == "legacy_chat_code":
        request["seat_type_pool"] = {"spend": money(rng, 0, 2000), "limit": limit(rng, 500, 3000)}
    kind = pick(rng, EVENTS)
    if kind == "usage":
        tokens = {"input": rng.randrange(1, 40_000), "output": rng.randrange(0, 8_000)}
        if rng.random() < 0.4:
            tokens["cache_read"] = rng.randrange(0, 150_000)
        if rng.random() < 0.1:
            tokens["cache_write_5m"] = rng.randrange(0, 20_000)
        if rng.random() < 0.03:
            tokens["input"] = rng.randrange(150_000, 400_000)  # long context
        event = {"type": "usage", "product": "chat", "model": pick(rng, MODELS), "tokens": tokens}
    elif kind == "usage_precheck":
        event = {"type": "usage_precheck", "product": pick(rng, PRODUCTS)}
        if rng.random() < 0.3:
            event["estimate"] = money(rng, 0, 5)
    elif kind == "limit_change":
        event = {"type": "limit_change", "level": rng.choice(["organization", "individual"]),
                 "limit": limit(rng, 10, 5000)}
    elif kind in ("seats_added", "seat_removal"):
        event = {"type": kind, "count": rng.randrange(1, 25)}
        if len(seat_types) > 1:
            event["seat_type"] = rng.choice(seat_types)
    elif kind == "seat_type_change":
        if len(seat_types) > 1:
            event = {"type": "seat_type_change", "from": seat_types[0], "to": seat_types[1]}
        else:
            event = {"type": "period_start"}
    elif kind == "credit_purchase":
        event = {"type": "credit_purchase", "amount": money(rng, 10, 2000)}
    else:
        event = {"type": "period_start"}
    request["event"] = event
    return request


def generate(count: int, seed: int, policy):
    """``count`` valid requests, their prepared facts and the ruleset each goes to."""
    rng = random.Random(seed)
    requests, facts = [], []
    rejected = 0
    while len(requests) < count:
        request = make_request(rng, policy.plans)
        try:
            ctx = build_context(policy, parse_request(request))
        except InputError:
            rejected += 1
            continue
        requests.append(request)
        facts.append((ruleset_name(policy, ctx.plan.id, ctx.event["type"]), ctx.fact))
    return requests, facts, rejected


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class RawHost:
    """What durable.engine.Ruleset asks of a host: an action per name."""

    def __init__(self):
        self.fired = []

    def get_action(self, name):
        if name == CATCH_ALL:
            return lambda c: None
        fired = self.fired
        return lambda c: fired.append(name)


def raw_rulesets(policy) -> tuple[dict, RawHost]:
    """The compiled rulesets as plain durable_rules Rulesets (under their own names)."""
    host = RawHost()
    out = {}
    for name, rules in compile_rulesets(policy).items():
        out[name] = durable.Ruleset(f"raw.{name}", host, ruleset_definition(rules))
    return out, host


def run_raw(rulesets, host, prepared, count: int, start: int = 0) -> float:
    """Seconds for ``count`` facts posted straight to durable_rules."""
    done = lambda error, state: None  # noqa: E731
    n = len(prepared)
    began = time.perf_counter()
    for i in range(start, start + count):
        ruleset, fact, sid = prepared[i % n]
        handle = ruleset.assert_fact(fact)
        ruleset.do_actions(handle, done)
        ruleset.delete_state(sid)
        host.fired.clear()
    return time.perf_counter() - began


def run_raw_queue(rulesets, prepared, count: int, start: int = 0) -> float:
    """Seconds for ``count`` facts through durable_rules' C module, actions read
    off its queue without Python callbacks (the way engine.evaluate.runtime reads them
    since it stopped using do_actions): durable's floor, for reference."""
    c_engine = durable.durable_rules_engine
    n = len(prepared)
    began = time.perf_counter()
    for i in range(start, start + count):
        ruleset, fact, sid = prepared[i % n]
        handle = ruleset._handle
        state = ruleset.assert_fact(fact)
        started = c_engine.start_action_for_state(handle, state)
        message = started[1] if started else None
        while message:
            message = c_engine.complete_and_start_action(handle, state)
        c_engine.delete_state(handle, sid)
    return time.perf_counter() - began


def run_ours(evaluator, requests, count: int, start: int = 0) -> float:
    """Seconds for ``count`` decisions through Evaluator.decide."""
    decide = evaluator.decide
    n = len(requests)
    began = time.perf_counter()
    for i in range(start, start + count):
        decide(requests[i % n])
    return time.perf_counter() - began


def profile(evaluator, requests, count: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run_ours(evaluator, requests, count)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


def breakdown(policy, evaluator, requests, prepared, host, count: int) -> str:
    """Where a decision's time goes, stage by stage, timed in one interleaved
    loop with raw durable_rules (so machine load weighs on all alike)."""
    from tariff.engine.evaluate.decision import assemble
    clock = time.perf_counter
    stages = dict.fromkeys(["parse_request", "build_context", "ruleset_name", "runtime.evaluate", "fired->rules",
                            "assemble", "(to_dict, not in decide)", "raw durable_rules", "Evaluator.decide"], 0.0)
    order = {(p.id, e): {r.id: (i, r) for i, r in enumerate(p.rules_for(e))} for p in policy.plans.values()
             for e in p.events}
    done = lambda error, state: None  # noqa: E731
    n = len(requests)
    for i in range(count):
        request = requests[i % n]
        t0 = clock()
        parsed = parse_request(request)
        t1 = clock()
        ctx = build_context(policy, parsed)
        t2 = clock()
        key = (ctx.plan.id, ctx.event["type"])
        name = ruleset_name(policy, *key)
        t3 = clock()
        fired = evaluator.runtime.evaluate(name, ctx.fact)
        t4 = clock()
        rules = [r for _, r in sorted(order[key][f] for f in set(fired))]
        t5 = clock()
        decision = assemble(ctx, rules)
        t6 = clock()
        decision.to_dict()
        t7 = clock()
        ruleset, fact, sid = prepared[i % n]
        ruleset.do_actions(ruleset.assert_fact(fact), done)
        ruleset.delete_state(sid)
        host.fired.clear()
        t8 = clock()
        evaluator.decide(request)
        t9 = clock()
        for stage, took in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7,
                                        t9 - t8)):
            stages[stage] += took
    whole = stages["Evaluator.decide"]
    lines = [f"{'stage':28s} {'us/decision':>12s} {'% of decide':>12s}"]
    for stage, took in stages.items():
        lines.append(f"{stage:28s} {took / count * 1e6:12.1f} {100 * took / whole:11.1f}%")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1_000_000, help="decisions through our engine")
    parser.add_argument("--raw-decisions", type=int, default=None,
                        help="facts posted to raw durable_rules (default: as many as --decisions)")
    parser.add_argument("--distinct", type=int, default=10_000, help="distinct requests, replayed in turn")
    parser.add_argument("--seed", type=int, default=20260410)
    parser.add_argument("--block", type=int, default=5_000,
                        help="decisions of ours per turn; raw takes its share between turns")
    parser.add_argument("--profile", type=int, default=0, metavar="P",
                        help="also profile P decisions of ours with cProfile; the report goes to stderr")
    parser.add_argument("--breakdown", type=int, default=0, metavar="B",
                        help="also time B decisions stage by stage; the table goes to stderr")
    args = parser.parse_args(argv)
    raw_count = args.decisions if args.raw_decisions is None else args.raw_decisions

    policy = load_policy_set(POLICIES)
    evaluator = Evaluator(policy)
    requests, facts, rejected = generate(args.distinct, args.seed, policy)
    rulesets, host = raw_rulesets(policy)
    prepared = [(rulesets[name], {**fact, "sid": f"raw-{i}"}, f"raw-{i}") for i, (name, fact) in enumerate(facts)]
    outcomes = Counter(evaluator.decide(r).outcome for r in requests)  # also warms both paths up
    events = Counter(r["event"]["type"] for r in requests)
    run_raw(rulesets, host, prepared, min(len(prepared), 5_000))
    run_raw_queue(rulesets, prepared, min(len(prepared), 5_000))

    # Ours and raw take turns in blocks, so that whatever else the machine is
    # doing weighs on both alike; RSS is read before the first block and after
    # the last (the raw blocks delete their state too).
    gc.collect()
    rss_start = rss_mb()
    ours_seconds = raw_seconds = queue_seconds = 0.0
    ours_done = raw_done = 0
    while ours_done < args.decisions or raw_done < raw_count:
        block = min(args.block, args.decisions - ours_done)
        ours_seconds += run_ours(evaluator, requests, block, start=ours_done)
        ours_done += block
        raw_block = raw_count - raw_done if ours_done >= args.decisions else \
            min(raw_count - raw_done, round(raw_count * ours_done / args.decisions) - raw_done)
        raw_seconds += run_raw(rulesets, host, prepared, raw_block, start=raw_done)
        queue_seconds += run_raw_queue(rulesets, prepared, raw_block, start=raw_done)
        raw_done += raw_block
    gc.collect()
    rss_end = rss_mb()

    our_rate = args.decisions / ours_seconds
    raw_rate = raw_count / raw_seconds
    queue_rate = raw_count / queue_seconds
    ratio = our_rate / raw_rate
    growth = rss_end - rss_start
    if args.breakdown:
        print(breakdown(policy, evaluator, requests, prepared, host, args.breakdown), file=sys.stderr)
    if args.profile:
        print(profile(evaluator, requests, args.profile), file=sys.stderr)
    print(json.dumps({
        "bench": "engine",
        "decisions": args.decisions,
        "raw_decisions": raw_count,
        "block": args.block,
        "our_rate": round(our_rate, 1),
        "raw_rate": round(raw_rate, 1),
        "ratio": round(ratio, 3),
        "raw_queue_rate": round(queue_rate, 1),
        "ratio_vs_queue": round(our_rate / queue_rate, 3),
        "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_growth_mb": round(growth, 1),
        "targets": {"ratio_min": TARGET_RATIO, "rss_growth_mb_max": TARGET_RSS_GROWTH_MB,
                    "ratio_met": ratio >= TARGET_RATIO, "rss_met": growth < TARGET_RSS_GROWTH_MB},
        "mix": {"distinct": len(requests), "rejected_while_generating": rejected, "events": dict(events),
                "outcomes": dict(outcomes)},
        "seed": args.seed,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
