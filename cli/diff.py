"""`tariff diff OLD NEW --events FILE`: replay recorded decision requests under
two policy sets and show what the change does to each organization's bill.

Events: a JSON-lines file of decision requests (what `tariff decide` reads),
or YAML fixture files (a file or a directory). Exit 0 when the replay ran
(whatever it found), 1 when a policy set or the events cannot be read.
"""
from __future__ import annotations

import json
import sys

from tariff.engine import EventsError, PolicyError, Replayer, load_policy_set, money, read_events

COLUMNS = ("organization", "plan", "events", "old charges", "new charges", "change", "newly blocked",
           "unblocked", "notifications", "transitions")
NUMERIC = {"events", "old charges", "new charges", "change", "newly blocked", "unblocked", "notifications",
           "transitions"}


def _signed(amount) -> str:
    return ("+" if amount > 0 else "") + money.fmt(amount)


def _row(group) -> dict:
    return {
        "organization": group.organization,
        "plan": group.plan,
        "events": str(group.events),
        "old charges": money.fmt(group.old_charges),
        "new charges": money.fmt(group.new_charges),
        "change": _signed(group.delta),
        "newly blocked": str(len(group.newly_blocked)),
        "unblocked": str(len(group.unblocked)),
        "notifications": f"+{sum(group.notifications_gained.values())}/-{sum(group.notifications_lost.values())}",
        "transitions": str(sum(group.transitions_changed.values())),
    }


def _table(rows: list[dict]) -> list[str]:
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in COLUMNS}

    def line(values):
        return "  ".join(values[c].rjust(widths[c]) if c in NUMERIC else values[c].ljust(widths[c])
                         for c in COLUMNS).rstrip()
    return [line({c: c for c in COLUMNS}), line({c: "-" * widths[c] for c in COLUMNS}), *map(line, rows)]


def _counts(counter) -> str:
    return ", ".join(f"{name} x{n}" for name, n in sorted(counter.items()))


def _details(group) -> list[str]:
    out = []
    if group.newly_blocked:
        out.append(f"newly blocked: {', '.join(sorted(group.newly_blocked))} ({group.newly_blocked_events} events)")
    if group.unblocked:
        out.append(f"unblocked: {', '.join(sorted(group.unblocked))} ({group.unblocked_events} events)")
    other = {k: n for k, n in group.outcome_changes.items()
             if k not in ("allow -> block", "allow -> refuse", "block -> allow", "refuse -> allow")}
    if other:
        out.append(f"other outcome changes: {_counts(other)}")
    if group.reasons_changed:
        out.append(f"same outcome, different reasons: {group.reasons_changed} events")
    if group.notifications_gained:
        out.append(f"notifications gained: {_counts(group.notifications_gained)}")
    if group.notifications_lost:
        out.append(f"notifications lost: {_counts(group.notifications_lost)}")
    if group.transitions_changed:
        out.append(f"transitions changed: {_counts(group.transitions_changed)}")
    if group.errors_old != group.errors_new:
        out.append(f"errors before: {_counts(group.errors_old) or 'none'}; after: {_counts(group.errors_new) or 'none'}")
    return out


def render_text(report, show_all: bool = False) -> list[str]:
    groups = report.sorted_groups()
    shown = groups if show_all else [g for g in groups if g.changed or g.errors_old != g.errors_new]
    totals = report.totals
    lines = [f"old: {report.old.root} ({report.old.version[:12]})  new: {report.new.root} "
             f"({report.new.version[:12]})",
             f"{report.events} events replayed, {len(groups)} organization/plan groups, "
             f"{len(groups) - len([g for g in groups if g.changed])} unchanged"
             + (f", {sum(report.invalid.values())} invalid request(s) ({_counts(report.invalid)})"
                if report.invalid else ""),
             ""]
    total_row = {**_row(totals), "organization": "TOTAL", "plan": "", "newly blocked": str(len(totals.newly_blocked)),
                 "unblocked": str(len(totals.unblocked))}
    lines += _table([_row(g) for g in shown] + [total_row])
    detailed = [(g, _details(g)) for g in shown]
    if any(d for _, d in detailed):
        lines.append("")
        for group, details in detailed:
            if details:
                lines.append(f"{group.organization} / {group.plan}:")
                lines += [f"  {d}" for d in details]
    return lines


def cmd_diff(args) -> int:
    policies = []
    for path in (args.old, args.new):
        try:
            policies.append(load_policy_set(path))
        except PolicyError as exc:
            for finding in exc.findings:
                print(finding, file=sys.stderr)
            return 1
    if not args.events and not args.ledger:
        print("tariff diff: give --events FILE or --ledger DATABASE_URL", file=sys.stderr)
        return 2
    replayer = Replayer(*policies)
    try:
        for path in args.events or ():
            for payload in read_events(path):
                replayer.add(payload)
    except EventsError as exc:
        print(f"tariff diff: {exc}", file=sys.stderr)
        return 1
    if args.ledger:
        from tariff.storage import Database
        from tariff.storage.history import recorded_requests
        for payload in recorded_requests(Database(args.ledger), args.organization):
            replayer.add(payload)
    report = replayer.report
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(render_text(report, args.all)))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("diff", help="replay events under two policy sets; show the change per organization")
    p.add_argument("old", metavar="OLD_POLICIES")
    p.add_argument("new", metavar="NEW_POLICIES")
    p.add_argument("--events", action="append", metavar="FILE",
                   help="JSON lines of decision requests or the API's decision log, or YAML fixtures (file or "
                        "directory); repeatable")
    p.add_argument("--ledger", metavar="DATABASE_URL",
                   help="replay the ledger's history (every applied decision's request, oldest first)")
    p.add_argument("--organization", metavar="ID", help="with --ledger: one organization's history only")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--all", action="store_true", help="list unchanged groups too")
    p.set_defaults(func=cmd_diff)
