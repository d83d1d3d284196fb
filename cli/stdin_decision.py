"""One request read from stdin and decided: what `decide` and `explain` share."""
from __future__ import annotations

import json
import sys

from tariff.engine import Evaluator, InputError, PolicyError, inputs, load_policy_set


def decide_stdin(policies: str):
    """(decision, policy), or an exit code after printing why there is none."""
    try:
        policy = load_policy_set(policies)
    except PolicyError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        return 1
    try:
        # Bytes where stdin has them (a pipe, a file), so bad UTF-8 is our
        # error; text where it has none (a StringIO a caller put there).
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        payload = inputs.loads(stream.read())
    except UnicodeDecodeError:
        print(json.dumps({"error": "invalid_json", "message": "the input is not UTF-8"}), file=sys.stderr)
        return 1
    except inputs.BadInput as exc:  # duplicate keys, NUL, numbers out of range, too deep (engine/inputs.py)
        print(json.dumps({"error": "invalid_json", "message": str(exc), "errors": exc.errors()}), file=sys.stderr)
        return 1
    try:
        return Evaluator(policy).decide(payload), policy
    except InputError as exc:
        print(json.dumps({"error": exc.code, "errors": exc.errors}, indent=2), file=sys.stderr)
        return 1
