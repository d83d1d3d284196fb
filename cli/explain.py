"""`tariff explain`: decide one request (JSON on stdin, as `tariff decide`)
and print the decision in plain English."""
from __future__ import annotations

import json

from tariff.engine import explain

from .stdin_decision import decide_stdin


def cmd_explain(args) -> int:
    decided = decide_stdin(args.policies)
    if isinstance(decided, int):
        return decided
    decision, policy = decided
    lines = explain(decision, policy)
    if args.format == "json":
        print(json.dumps({"decision": decision.to_dict(explain=True), "explanation": lines}, indent=2))
    else:
        print("\n".join(lines))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("explain", help="decide one request (JSON on stdin) and explain it in plain English")
    p.add_argument("--policies", help="the policy directory (default: ./policies, else the shipped set)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_explain)
