"""`tariff demo`: example organizations in the server's ledger (one on each
plan, with this month's usage), so the console at /console has something to
show after `make serve`. Running it again changes nothing."""
from __future__ import annotations


def cmd_demo(args) -> int:
    from tariff.api.console.demo import seed
    from tariff.engine import Evaluator, PolicyError, load_policy_set

    from .keys import database
    try:
        evaluator = Evaluator(load_policy_set(args.policies))
    except PolicyError as exc:
        for finding in exc.findings:
            print(finding)
        return 1
    db = database()
    try:
        written = seed(db, evaluator)
    finally:
        db.dispose()
    if written:
        print(f"wrote {', '.join(written)}; open http://127.0.0.1:8000/console and sign in as pat in acme "
              "(owner), ana in acme (member), gina in globex, ines in initech or uma in umbrella")
    else:
        print("the example organizations are there already; nothing written")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="write example organizations (one on each plan) into the ledger")
    p.add_argument("--policies", help="the policy directory (default: ./policies, else the shipped set)")
    p.set_defaults(func=cmd_demo)
