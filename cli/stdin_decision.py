"""One request read from stdin and decided: what `decide` and `explain` share."""
from __future__ import annotations

import json
import sys
from decimal import Decimal

from tariff.engine import Evaluator, InputError, PolicyError, load_policy_set


def decide_stdin(policies: str):
    """(decision, policy), or an exit code after printing why there is none."""
    try:
        policy = load_policy_set(policies)
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
        return Evaluator(policy).decide(payload), policy
    except InputError as exc:
        print(json.dumps({"error": exc.code, "errors": exc.errors}, indent=2), file=sys.stderr)
        return 1
