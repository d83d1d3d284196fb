"""`tariff explain`: decide one request (JSON on stdin, as `tariff decide`)
and print the decision in plain English."""
from __future__ import annotations

import json
import sys
from decimal import Decimal

from engine import Evaluator, InputError, PolicyError, load_policy_set
from engine.explain import explain


def cmd_explain(args) -> int:
    try:
        policy = load_policy_set(args.policies)
    except PolicyError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        return 1
    try:
        payload = json.loads(sys.stdin.read(), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        print(json.dumps({"error": "invalid_json", "message": str(exc)}), file=sys.stderr)
        return 1
    try:
        decision = Evaluator(policy).decide(payload)
    except InputError as exc:
        print(json.dumps({"error": exc.code, "errors": exc.errors}, indent=2), file=sys.stderr)
        return 1
    lines = explain(decision, policy)
    if args.format == "json":
        print(json.dumps({"decision": decision.to_dict(explain=True), "explanation": lines}, indent=2))
    else:
        print("\n".join(lines))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("explain", help="decide one request (JSON on stdin) and explain it in plain English")
    p.add_argument("--policies", default="policies")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_explain)
