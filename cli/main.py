"""`tariff`: validate policies, run fixtures, decide from the shell, serve.

Exit codes: 0 success; 1 a check failed (fixtures, policy errors, a refused
input); 2 the command was used wrongly.
"""
from __future__ import annotations

import argparse
import json
import sys

from tariff.engine import check_policies
from tariff.resources import default_policies


def cmd_validate(args) -> int:
    verdict = check_policies(args.path)
    errors = verdict.errors
    if args.format == "json":
        print(json.dumps({"valid": verdict.valid, "version": verdict.policy.version if verdict.policy else None,
                          "findings": [f.to_dict() for f in verdict.findings]}, indent=2))
        return 0 if verdict.valid else 1
    for finding in verdict.findings:
        print(finding)
    warnings = len(verdict.findings) - len(errors)
    if verdict.policy is None:
        print(f"{len(errors)} error(s), {warnings} warning(s)")
    else:
        policy = verdict.policy
        print(f"{policy.root}: {len(policy.plans)} plans, {sum(len(p.rules) for p in policy.plans.values())} "
              f"rules, {len(errors)} error(s), {warnings} warning(s)")
    return 0 if verdict.valid else 1


def cmd_test(args) -> int:
    verdict = check_policies(args.policies, fixtures=args.paths or ["fixtures"], lint=False)
    if verdict.fixtures is None:  # the policy set itself does not load
        for finding in verdict.findings:
            print(finding, file=sys.stderr)
        return 1
    report = verdict.fixtures
    if args.accept:
        return _accept(args, report)
    if args.format == "json":
        print(json.dumps({"passed": report.passed, "failed": len(report.failed),
                          "broken_fixtures": [f.to_dict() for f in report.broken],
                          "cases": [{"id": r.case.id, "line": r.case.line, "cites": r.case.cites,
                                     "passed": r.passed, "problems": r.problems} for r in report.results]}, indent=2))
    else:
        for r in report.results:
            print(f"{'PASS' if r.passed else 'FAIL'} {r.case.id}")
            for problem in r.problems:
                print(f"    {r.case.file}:{r.case.line}: {problem}")
        for finding in report.broken:
            print(f"BROKEN {finding}")
        print(f"{report.passed} passed, {len(report.failed)} failed")
    return 0 if report.ok else 1


def _accept(args, report) -> int:
    """Rewrite the failing cases' expectations, print the diff, run the fixtures again."""
    from .accept import accept, write
    changes = accept(report.results)
    write(changes)
    for change in changes:
        sys.stdout.write(change.diff())
    accepted = sum(len(c.accepted) for c in changes)
    refused = [r for c in changes for r in c.refused]
    for case_id, why in refused:
        print(f"NOT ACCEPTED {case_id}: {why}")
    again = check_policies(args.policies, fixtures=args.paths or ["fixtures"], lint=False).fixtures
    print(f"accepted {accepted} case(s) in {sum(1 for c in changes if c.accepted)} file(s); "
          f"{len(refused)} left to edit by hand; now {again.passed} passed, {len(again.failed)} failed")
    return 0 if again.ok else 1


def cmd_decide(args) -> int:
    from .stdin_decision import decide_stdin
    decided = decide_stdin(args.policies)
    if isinstance(decided, int):
        return decided
    decision, _ = decided
    print(json.dumps(decision.to_dict(explain=args.explain), indent=2))
    return 0


def cmd_serve(args) -> int:
    from tariff.api.serve import serve
    return serve(host=args.host, port=args.port, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tariff", description="Billing policy service")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a policy directory; every finding with its place")
    p.add_argument("path", nargs="?", help="the policy directory (default: ./policies, else the shipped set)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("test", help="run scenario fixtures against the policies")
    p.add_argument("paths", nargs="*", help="fixture files or directories (default: fixtures)")
    p.add_argument("--policies", help="the policy directory (default: ./policies, else the shipped set)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--accept", action="store_true",
                   help="rewrite the failing cases' expectations from what the policies decide now, and print the diff")
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("decide", help="decide one request: JSON on stdin, the decision on stdout")
    p.add_argument("--policies", help="the policy directory (default: ./policies, else the shipped set)")
    p.add_argument("--explain", action="store_true", help="include the trace of fired rules")
    p.set_defaults(func=cmd_decide)

    p = sub.add_parser("serve", help="serve the HTTP API with gunicorn worker processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_serve)

    for register in _plugins():
        register(sub)
    return parser


def _plugins():
    """Subcommands that live in their own modules (explain, diff, keys, db, demo)."""
    found = []
    for name in ("tariff.cli.explain", "tariff.cli.diff", "tariff.cli.keys", "tariff.cli.db", "tariff.cli.demo"):
        try:
            module = __import__(name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        found.append(module.register)
    return found


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("path", "policies"):  # the default is decided when the command runs, not at import
        if name in args and getattr(args, name) is None:
            setattr(args, name, default_policies())
    from tariff.storage import ConfigError, DatabaseUnavailable, MigrationRefused
    try:
        return args.func(args)
    except ConfigError as exc:  # a setting (TARIFF_DATABASE_URL, ...) named, with what it takes
        print(f"tariff {args.command}: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:  # the ledger's database cannot be reached, opened or written
        print(f"tariff {args.command}: the ledger's database cannot be used: {exc.detail or exc}", file=sys.stderr)
        return 1
    except MigrationRefused as exc:  # rows the new schema's keys refuse: rolled back, the schema as it was
        print(f"tariff {args.command}: {exc.message}", file=sys.stderr)
        return 1


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port from 1 to 65535, not {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
