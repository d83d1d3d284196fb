"""Replay benchmark: N events (default 1,000,000) under the shipped policies
and a copy with one price changed, as `tariff diff` does. Prints one JSON line.

    .venv/bin/python bench/bench_replay.py [N] [--distinct K] [--seed S]

Events are a realistic mix generated with a fixed seed: four plans (self-serve
and sales-assisted Enterprise, legacy Chat / Chat + Claude Code, seat-based),
2,000 organizations with their own members and limits, January to June 2026,
mostly usage (70%) and prechecks (20%), then limit changes, credit purchases,
seat changes, period starts, renewals and refusals. K distinct events
(default 50,000) are generated up front and replayed in turn until N events
have been replayed, so generating them is not timed; the engine caches
nothing between decisions, so a repeated event costs what a new one does.
Only the replay is timed: parse once, decide under both sets, compare.
`seconds` is wall-clock time; `cpu_seconds` is this process's CPU time, the
fairer figure on a machine shared with other work.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from tariff.engine import load_policy_set
from tariff.engine.tools.replay import Replayer

PRICE_CHANGE = """
  - effective_from: 2026-04-01
    source: bench price change
    models:
      claude-haiku-4-5:
        {input: 1.25, output: 5, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.10}
"""
PLANS = [("enterprise_self_serve", 40), ("enterprise_sales_assisted", 30), ("legacy_chat_code", 20),
         ("seat_based", 10)]
EVENTS = [("usage", 700), ("usage_precheck", 200), ("limit_change", 20), ("credit_purchase", 15),
          ("seats_added", 15), ("seat_removal", 10), ("period_start", 15), ("renewal", 5),
          ("disable_usage_billing", 5), ("early_migration", 5), ("seat_type_change", 10)]
MODELS = [("claude-sonnet-4-5", 35), ("claude-haiku-4-5", 30), ("claude-opus-4-5", 10), ("claude-sonnet-4", 10),
          ("claude-sonnet-4-6", 10), ("claude-opus-4-1", 5)]
ROLES = [("member", 80), ("admin", 10), ("owner", 8), ("primary_owner", 2)]
START = date(2026, 1, 1)


def pick(rng, weighted):
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def money(rng, low, high) -> str:
    return f"{rng.uniform(low, high):.2f}"


def organizations(rng, count, plans):
    orgs = []
    for i in range(count):
        plan = pick(rng, PLANS)
        seat_types = list(plans[plan].seat_types)  # as the policy defines them
        orgs.append({
            "id": f"org-{i:05d}", "plan": plan, "channel": rng.choice(plans[plan].channels),
            "members": [f"org-{i:05d}-m{j:03d}" for j in range(rng.randint(3, 60))],
            "seat_types": seat_types,
            "limit": rng.choice(["unlimited", "500", "2000", "10000"]),
            "term_start": (START - timedelta(days=rng.randint(0, 364))).replace(day=1).isoformat(),
        })
    return orgs


def event(rng, org) -> dict:
    plan, seat_types = org["plan"], org["seat_types"]
    day = START + timedelta(days=rng.randint(0, 180))
    kind = pick(rng, EVENTS)
    limit = org["limit"]
    org_spend = money(rng, 0, 1.1 * float(limit)) if limit != "unlimited" else money(rng, 0, 5000)
    member_limit = rng.choice(["unlimited", "50", "200"])
    member = {"id": rng.choice(org["members"]), "role": pick(rng, ROLES), "seat_type": rng.choice(seat_types),
              "spend": money(rng, 0, 250), "limit": member_limit, "notified_pct": rng.choice([0, 0, 50, 80])}
    if plan == "seat_based":
        member["included_used"] = money(rng, 0, 120)
    organization = {"id": org["id"], "spend": org_spend, "limit": limit, "term_start": org["term_start"],
                    "notified_pct": rng.choice([0, 0, 50, 80]), "credit_balance": money(rng, -5, 2000),
                    "seats": {s: rng.randint(1, 40) for s in seat_types}, "extra_usage": rng.random() < 0.5}
    request = {"plan": plan, "as_of": day.isoformat(), "channel": org["channel"], "organization": organization,
               "member": member}
    if plan == "legacy_chat_code":
        request["seat_type_pool"] = {"spend": money(rng, 0, 800), "limit": rng.choice(["unlimited", "1000"])}
    if kind == "usage":
        model = pick(rng, MODELS)
        if model == "claude-sonnet-4-6" and day < date(2026, 2, 5):
            model = "claude-sonnet-4-5"
        tokens = {"input": int(rng.lognormvariate(8, 1.5)) + 1, "output": int(rng.lognormvariate(6, 1.2))}
        if rng.random() < 0.4:
            tokens["cache_read"] = int(rng.lognormvariate(9, 1.5))
        if rng.random() < 0.1:
            tokens["cache_write_5m"] = int(rng.lognormvariate(8, 1))
        product = rng.choice(["chat", "chat", "claude_code"])
        request["event"] = {"type": "usage", "product": product, "model": model, "tokens": tokens}
    elif kind == "usage_precheck":
        request["event"] = {"type": "usage_precheck", "product": rng.choice(["chat", "claude_code", "cowork"]),
                            "estimate": money(rng, 0, 3)}
        if request["event"]["product"] == "cowork" and plan != "enterprise_self_serve" \
                and plan != "enterprise_sales_assisted":
            request["event"]["product"] = "chat"
    elif kind == "limit_change":
        request["event"] = {"type": "limit_change", "level": rng.choice(["organization", "individual"]),
                            "limit": rng.choice(["unlimited", "100", "1000"])}
    elif kind == "credit_purchase":
        request["event"] = {"type": "credit_purchase", "amount": money(rng, 50, 5000)}
    elif kind in ("seats_added", "seat_removal"):
        request["event"] = {"type": kind, "count": rng.randint(1, 10), "seat_type": rng.choice(seat_types)}
    elif kind == "seat_type_change":
        request["event"] = {"type": kind, "from": seat_types[0], "to": seat_types[-1]}
    else:
        request["event"] = {"type": kind}
        if kind in ("period_start", "renewal"):
            del request["member"]
            if kind == "renewal":  # on the day the term ends
                start = date.fromisoformat(org["term_start"])
                request["as_of"] = start.replace(year=start.year + 1).isoformat()
    return request


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20260410)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    old = load_policy_set(ROOT / "policies")
    orgs = organizations(rng, 2000, old.plans)
    pool = [event(rng, rng.choice(orgs)) for _ in range(min(args.distinct, args.count))]
    with tempfile.TemporaryDirectory() as tmp:
        new_root = Path(tmp) / "policies"
        shutil.copytree(ROOT / "policies", new_root)
        card = new_root / "rate_card.yaml"
        card.write_text(card.read_text() + PRICE_CHANGE)
        new = load_policy_set(new_root)
        replayer = Replayer(old, new)
        add = replayer.add
        size = len(pool)
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(args.count):
            add(pool[i % size])
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    report = replayer.report
    totals = report.totals
    errors = totals.errors_old + totals.errors_new
    print(json.dumps({
        "bench": "replay",
        "events": args.count,
        "distinct_events": size,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "events_per_second": round(args.count / elapsed),
        "events_per_cpu_second": round(args.count / cpu),
        "decisions_per_second": round(2 * args.count / elapsed),
        "groups": len(report.groups),
        "change": str(totals.delta),
        "newly_blocked_members": len(totals.newly_blocked),
        "invalid_events": sum(report.invalid.values()),
        "error_decisions": dict(sorted(errors.items())),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
