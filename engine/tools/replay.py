"""What-if replay: decide recorded events under two policy sets and compare.

    report = replay(old_policy, new_policy, read_events("events.jsonl"))
    report.totals.delta          # exact Decimal change in charges
    report.to_dict()             # JSON-safe (amounts as strings)

Per organization (``organization.id``, or "-") and plan, a report gives the
change in charges (exact), members newly blocked or unblocked (allowed before
and blocked or refused now, or the reverse), notifications gained or lost,
transitions changed, and events that fail under one set only (an unknown
model after a retirement, say). Both sets live in one process: their
durable_rules rulesets are named with the policy version, so they never meet.

Each request is validated once and decided under both sets; nothing is kept
per event, so a replay of millions of events runs in constant memory.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Iterator

from .. import inputs
from ..errors import InputError
from ..evaluate.evaluator import Evaluator
from ..evaluate.request import parse_request
from ..findings import PolicyError
from ..load.policy_set import PolicySet
from ..money import ZERO, fmt
from .verify import fixture_files, load_cases

ALLOW = "allow"
STOPPED = ("block", "refuse")


class EventsError(ValueError):
    """An events file that cannot be read; the message names file and line."""


def read_events(path: str | Path) -> Iterator[dict]:
    """Decision requests from a JSON-lines file, or from YAML fixture files (a file or a directory).

    A JSON line is a decision request, or a line of the API's decision log
    (``{"decision_id", ..., "input": request, "result"}``): the log of what
    was decided in production replays as it stands. Lines that do not start
    with ``{`` are skipped: a decision log sent to stdout shares it with the
    server's own log lines (gunicorn's), and replays from it as it is.
    Each line is read as the API reads a body (``inputs.loads``: UTF-8, no
    duplicate keys, NUL or lone surrogates, numbers and depth in range);
    EventsError names the file, the line and what is wrong, as it does for a
    file with lines but no request in it (a file that is not events at all).
    """
    path = Path(path)
    if path.is_dir() or path.suffix in (".yaml", ".yml"):
        for file in fixture_files([path]):
            try:
                cases = load_cases(file)
            except PolicyError as exc:
                raise EventsError("\n".join(str(f) for f in exc.findings)) from None
            for case in cases:
                yield case.request
        return
    if not path.is_file():
        raise EventsError(f"{path}: no such events file")
    read = skipped = 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EventsError(f"{path}:{number}:{exc.start + 1}: not UTF-8 text") from None
            if not line.lstrip().startswith("{"):
                skipped += bool(line.strip())
                continue
            try:
                event = inputs.loads(line)
            except inputs.BadInput as exc:
                raise EventsError(f"{path}:{number}: {exc.message if exc.path == 'body' else exc}") from None
            if isinstance(event, dict) and "decision_id" in event and "input" in event:
                event = event["input"]  # a decision log line
            read += 1
            yield event
    if not read and skipped:
        raise EventsError(f"{path}: no decision request in it ({skipped} lines, none a JSON object)")


@dataclass
class Outcome:
    """One decision, reduced to what a replay compares."""
    status: str  # allow | block | refuse | error:<code>
    total: Decimal = ZERO
    notifications: tuple = ()
    transition: tuple | None = None
    reasons: tuple = ()


def _outcome(evaluator: Evaluator, request: dict) -> Outcome:
    try:
        decision = evaluator.decide_parsed(request)
    except InputError as exc:
        return Outcome(f"error:{exc.code}")
    except Exception as exc:  # an engine failure on one event must not end a replay; it is counted
        return Outcome(f"error:{type(exc).__name__}")
    notes = tuple(_note_key(n) for n in decision.notifications) if decision.notifications else ()
    transition = tuple(sorted((k, str(v)) for k, v in decision.transition.items())) if decision.transition else None
    return Outcome(decision.outcome, decision.total if decision.charges else ZERO, notes, transition,
                   tuple(r["code"] for r in decision.reasons))


def _note_key(note: dict) -> str:
    """A notification by what it announces (spend figures change with prices)."""
    parts = [note.get("type", "?")]
    if "level" in note:
        parts.append(str(note["level"]))
    if "threshold_pct" in note:
        parts.append(f"{note['threshold_pct']}%")
    if note.get("member"):
        parts.append(f"member {note['member']}")
    return " ".join(parts)


def _transition_text(transition: tuple | None) -> str:
    if transition is None:
        return "none"
    params = dict(transition)
    kind = params.pop("type", "?")
    return kind + ("(" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + ")" if params else "")


@dataclass
class GroupDiff:
    organization: str
    plan: str
    events: int = 0
    old_charges: Decimal = ZERO
    new_charges: Decimal = ZERO
    newly_blocked: set = field(default_factory=set)  # member ids
    unblocked: set = field(default_factory=set)
    newly_blocked_events: int = 0
    unblocked_events: int = 0
    outcome_changes: Counter = field(default_factory=Counter)  # "allow -> block": events
    reasons_changed: int = 0
    notifications_gained: Counter = field(default_factory=Counter)
    notifications_lost: Counter = field(default_factory=Counter)
    transitions_changed: Counter = field(default_factory=Counter)  # "old -> new": events
    errors_old: Counter = field(default_factory=Counter)
    errors_new: Counter = field(default_factory=Counter)

    @property
    def delta(self) -> Decimal:
        return self.new_charges - self.old_charges

    @property
    def changed(self) -> bool:
        return bool(self.delta or self.outcome_changes or self.reasons_changed or self.notifications_gained
                    or self.notifications_lost or self.transitions_changed)

    def merge(self, other: "GroupDiff") -> None:
        self.events += other.events
        self.old_charges += other.old_charges
        self.new_charges += other.new_charges
        self.newly_blocked |= {f"{other.organization}/{m}" for m in other.newly_blocked}
        self.unblocked |= {f"{other.organization}/{m}" for m in other.unblocked}
        self.newly_blocked_events += other.newly_blocked_events
        self.unblocked_events += other.unblocked_events
        self.reasons_changed += other.reasons_changed
        for name in ("outcome_changes", "notifications_gained", "notifications_lost", "transitions_changed",
                     "errors_old", "errors_new"):
            getattr(self, name).update(getattr(other, name))

    def to_dict(self) -> dict:
        return {
            "organization": self.organization,
            "plan": self.plan,
            "events": self.events,
            "old_charges": fmt(self.old_charges),
            "new_charges": fmt(self.new_charges),
            "change": fmt(self.delta),
            "newly_blocked": {"members": sorted(self.newly_blocked), "events": self.newly_blocked_events},
            "unblocked": {"members": sorted(self.unblocked), "events": self.unblocked_events},
            "outcome_changes": dict(sorted(self.outcome_changes.items())),
            "reasons_changed": self.reasons_changed,
            "notifications_gained": dict(sorted(self.notifications_gained.items())),
            "notifications_lost": dict(sorted(self.notifications_lost.items())),
            "transitions_changed": dict(sorted(self.transitions_changed.items())),
            "errors_old": dict(sorted(self.errors_old.items())),
            "errors_new": dict(sorted(self.errors_new.items())),
        }


@dataclass
class Report:
    old: PolicySet
    new: PolicySet
    groups: dict = field(default_factory=dict)  # (organization, plan) -> GroupDiff
    invalid: Counter = field(default_factory=Counter)  # requests refused by both as malformed

    @property
    def events(self) -> int:
        return sum(g.events for g in self.groups.values()) + sum(self.invalid.values())

    @property
    def totals(self) -> GroupDiff:
        total = GroupDiff("*", "*")
        for group in self.groups.values():
            total.merge(group)
        return total

    def sorted_groups(self) -> list[GroupDiff]:
        return [self.groups[k] for k in sorted(self.groups)]

    def to_dict(self) -> dict:
        totals = self.totals.to_dict()
        for key in ("organization", "plan"):
            del totals[key]
        return {
            "old": {"policies": self.old.root, "version": self.old.version},
            "new": {"policies": self.new.root, "version": self.new.version},
            "events": self.events,
            "invalid_events": dict(sorted(self.invalid.items())),
            "totals": totals,
            "groups": [g.to_dict() for g in self.sorted_groups()],
        }


class Replayer:
    """Decides each event under both sets and adds up the differences."""

    def __init__(self, old: PolicySet, new: PolicySet):
        self.old_evaluator = Evaluator(old)
        self.new_evaluator = self.old_evaluator if new.version == old.version else Evaluator(new)
        self.report = Report(old, new)

    def add(self, payload) -> None:
        org, plan, member = _keys(payload)
        try:
            request = parse_request(payload)
        except InputError as exc:
            self.report.invalid[exc.code] += 1
            return
        old = _outcome(self.old_evaluator, request)
        new = old if self.new_evaluator is self.old_evaluator else _outcome(self.new_evaluator, request)
        group = self.report.groups.get((org, plan))
        if group is None:
            group = self.report.groups[(org, plan)] = GroupDiff(org, plan)
        group.events += 1
        group.old_charges += old.total
        group.new_charges += new.total
        if old.status.startswith("error:"):
            group.errors_old[old.status[6:]] += 1
        if new.status.startswith("error:"):
            group.errors_new[new.status[6:]] += 1
        if old.status != new.status:
            group.outcome_changes[f"{old.status} -> {new.status}"] += 1
            if old.status == ALLOW and new.status in STOPPED:
                group.newly_blocked.add(member)
                group.newly_blocked_events += 1
            elif old.status in STOPPED and new.status == ALLOW:
                group.unblocked.add(member)
                group.unblocked_events += 1
        elif old.reasons != new.reasons:
            group.reasons_changed += 1
        if old.notifications != new.notifications:
            before, after = Counter(old.notifications), Counter(new.notifications)
            group.notifications_gained.update(after - before)
            group.notifications_lost.update(before - after)
        if old.transition != new.transition:
            group.transitions_changed[f"{_transition_text(old.transition)} -> {_transition_text(new.transition)}"] += 1


def _keys(payload) -> tuple[str, str, str]:
    if not isinstance(payload, dict):
        return "-", "-", "-"
    org = payload.get("organization") if isinstance(payload.get("organization"), dict) else {}
    member = payload.get("member") if isinstance(payload.get("member"), dict) else {}
    return str(org.get("id") or "-"), str(payload.get("plan") or "-"), str(member.get("id") or "-")


def replay(old: PolicySet, new: PolicySet, events: Iterable[dict]) -> Report:
    replayer = Replayer(old, new)
    for payload in events:
        replayer.add(payload)
    return replayer.report
