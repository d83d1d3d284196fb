"""Loading a policy directory: parse, check the shape of every file, compose
each plan from its rule modules, and collect every finding at once.

The result is a ``PolicySet``: immutable, validated, ready to compile. A set
with any error is never returned (``PolicyError`` lists them all), so a broken
file can never replace a working set.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import ValidationError

from ..events import EVENTS
from ..findings import WARNING, Finding, Location, PolicyError, sort_findings
from .conditions import parse_condition
from .effects import Effects, parse_effects
from .files import (PlanFileSchema, RateCardFileSchema, RulesFileSchema, SeatPricesFileSchema,
                            VocabularyFileSchema, schema_for)
from .rate_card import RateCard, RateEntry, SeatPriceEntry, SeatPriceList
from .schema_errors import findings_from
from .templates import combinations, substitute, unbound
from .where import Where
from .yaml_source import Document, parse

CITE = re.compile(r"^[SUCALMRPD][0-9]+$")  # a rule or a decision of policies/billing-rules.md


@dataclass(frozen=True)
class Rule:
    id: str
    cites: tuple
    on: tuple
    when: object  # the condition tree (load/conditions.py); None: always
    effects: Effects
    location: Location
    source: str  # the file the rule is written in
    where: Where | None = field(default=None, compare=False)  # the rule as written (`rules[i]` of its file)
    binding: tuple = ()  # the `each:` values of this rule: ((name, value), ...)


@dataclass(frozen=True, eq=False)
class Plan:
    id: str
    title: str
    channels: tuple
    prepaid_credits: tuple
    usage: str
    limit_levels: tuple
    seat_types: dict  # seat type -> tuple of products
    renews_to: dict
    rules: tuple
    location: Location
    where: Where | None = None  # the plan file

    @property
    def default_seat_type(self) -> str | None:
        """The seat type a member or seat change has when none is said: the plan's only one (None: say which)."""
        return next(iter(self.seat_types)) if len(self.seat_types) == 1 else None

    def rules_for(self, event: str) -> tuple:
        return tuple(r for r in self.rules if event in r.on)

    @functools.cached_property
    def events(self) -> frozenset:
        """The event types this plan decides (those some rule is `on`)."""
        return frozenset(e for e in EVENTS if self.rules_for(e))


@dataclass(frozen=True)
class PolicySet:
    root: str
    version: str  # content hash of every file
    files: dict  # relative path -> sha256
    vocabulary: dict
    rate_card: RateCard
    seat_prices: SeatPriceList
    plans: dict
    warnings: tuple = field(default=())
    vocabulary_where: Where | None = field(default=None, compare=False, repr=False)  # the vocabulary file


def _read_documents(root: Path, shown: str):
    docs, findings, files = {}, [], {}
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for path in paths:
        rel = path.relative_to(root).as_posix()
        raw = path.read_bytes()
        files[rel] = hashlib.sha256(raw).hexdigest()
        name = f"{shown}/{rel}" if shown else rel
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            findings.append(Finding(Location(name, 1, 1), "encoding", f"not UTF-8: {exc}"))
            continue
        doc, problems = parse(text, name)
        findings += problems
        if doc is not None:
            docs[rel] = doc
    return docs, findings, files


def _check_shape(doc: Document):
    schema = schema_for(doc.data)
    if schema is None:
        return None, None, [Finding(doc.where(()), "unknown_file_kind",
                                    "a policy file starts with one of: plan, rules, rate_card, seat_prices, reasons")]
    try:
        return schema, schema().load(doc.data), []
    except ValidationError as exc:
        return schema, None, findings_from(exc.messages, doc.data, Where(doc.positions))


class _Composer:
    """Builds plans from validated documents, collecting every finding."""

    def __init__(self, vocabulary: dict, rule_docs: dict, broken_modules: set = frozenset()):
        self.broken_modules = broken_modules  # reported already: including them is no new error
        self.vocabulary = vocabulary
        self.rule_docs = rule_docs  # rel path -> (doc, loaded)
        self.included: set[str] = set()
        self.findings: list[Finding] = []

    def plan(self, doc: Document, spec: dict) -> Plan:
        where = Where(doc.positions)
        voc = self.vocabulary
        self.known(spec["plan"], voc["plans"], where / "plan", "unknown_plan")
        for i, channel in enumerate(spec["channels"]):
            self.known(channel, voc["channels"], where / "channels" / i, "unknown_channel")
        for i, level in enumerate(spec["limit_levels"]):
            self.known(level, voc["limit_levels"], where / "limit_levels" / i, "unknown_level")
        for seat_type, seat in spec["seat_types"].items():
            self.known(seat_type, voc["seat_types"], where / "seat_types" / seat_type, "unknown_seat_type", key=True)
            for i, product in enumerate(seat["products"]):
                self.known(product, voc["products"], where / "seat_types" / seat_type / "products" / i,
                           "unknown_product")
        rules = []
        for i, rel in enumerate(spec["include"]):
            if rel in self.broken_modules:
                self.included.add(rel)
                continue
            if rel not in self.rule_docs:
                self.findings.append((where / "include" / i).finding("unknown_include",
                                                                     f"no rule module {rel!r} in the policy set"))
                continue
            self.included.add(rel)
            module_doc, module = self.rule_docs[rel]
            rules += self.rules(module["rules"], Where(module_doc.positions, ("rules",)))
        rules += self.rules(spec["rules"], where / "rules")
        seen: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in seen:
                self.findings.append(Finding(rule.location, "duplicate_rule",
                                             f"rule {rule.id!r} is already defined at {seen[rule.id].location}"))
            seen[rule.id] = rule
        return Plan(spec["plan"], spec["title"], tuple(spec["channels"]), tuple(spec["prepaid_credits"]),
                    spec["usage"], tuple(spec["limit_levels"]),
                    {k: tuple(v["products"]) for k, v in spec["seat_types"].items()},
                    dict(spec["renews_to"]), tuple(rules), where.location, where)

    def known(self, value, allowed, where: Where, code: str, key=False):
        if value not in allowed:
            self.findings.append(where.finding(code, f"{value!r} is not in the vocabulary ({', '.join(allowed)})",
                                               at_key=key))

    def rules(self, specs: list, where: Where) -> list[Rule]:
        out = []
        for i, spec in enumerate(specs):
            here = where / i
            for binding in combinations(spec.get("each") or {}):
                rule = self.rule(spec, binding, here)
                if rule is not None:
                    out.append(rule)
        return out

    def rule(self, written: dict, binding: dict, where: Where) -> Rule | None:
        """One rule of a written spec, with the `each:` values of ``binding``."""
        before = len(self.findings)
        spec = substitute({k: v for k, v in written.items() if k not in ("each", "when")}, binding)
        left = unbound({"id": spec["id"], "when": substitute(written["when"], binding), "then": spec["then"]})
        if left:
            self.findings.append((where / "id").finding("unbound_placeholder",
                                                        f"{sorted(left)} not given by `each`"))
        for i, event in enumerate(spec["on"]):
            self.known(event, EVENTS, where / "on" / i, "unknown_event")
        for i, cite in enumerate(spec["cites"]):
            if not CITE.match(str(cite)):
                self.findings.append((where / "cites" / i).finding("invalid_cite", f"{cite!r} is not a billing rule "
                                                                   "number like S3, L1 or D4 (policies/billing-rules.md)"))
        when, problems = parse_condition(written["when"], where / "when", binding)
        effects, effect_problems = parse_effects(spec["then"], where / "then", self.vocabulary)
        self.findings += problems + effect_problems
        if len(self.findings) > before:
            return None
        return Rule(spec["id"], tuple(spec["cites"]), tuple(spec["on"]), when, effects, (where / "id").location,
                    where.file, where, tuple(binding.items()))


def load_policy_set(root: str | Path) -> PolicySet:
    """Load and validate every policy file under ``root``; raise PolicyError."""
    root_path = Path(root)
    shown = str(root).rstrip("/")
    if not root_path.is_dir():
        what = "a file, not a policy directory" if root_path.exists() else "no such policy directory"
        raise PolicyError([Finding(Location(shown, 1, 1), "not_found", what)])
    docs, findings, files = _read_documents(root_path, shown)
    by_kind: dict = {}
    broken: dict = {}  # files of a known kind with errors: their absence is not a second finding
    for rel, doc in docs.items():
        schema, loaded, problems = _check_shape(doc)
        findings += problems
        if loaded is not None:
            by_kind.setdefault(schema, []).append((rel, doc, loaded))
        elif schema is not None:
            broken.setdefault(schema, set()).add(rel)

    vocabularies = by_kind.get(VocabularyFileSchema, [])
    if len(vocabularies) != 1:
        findings.append(Finding(Location(shown, 1, 1), "vocabulary",
                                f"expected exactly one vocabulary file (with `reasons:`), found {len(vocabularies)}"))
        raise PolicyError(findings)
    _, vocabulary_doc, vocabulary = vocabularies[0]
    rate_entries = [RateEntry.load(entry, Where(doc.positions, ("rate_card", i)))
                    for _, doc, loaded in by_kind.get(RateCardFileSchema, [])
                    for i, entry in enumerate(loaded["rate_card"])]
    price_entries = [SeatPriceEntry.load(entry, Where(doc.positions, ("seat_prices", i)))
                     for _, doc, loaded in by_kind.get(SeatPricesFileSchema, [])
                     for i, entry in enumerate(loaded["seat_prices"])]
    for kind, entries, schema in (("rate_card", rate_entries, RateCardFileSchema),
                                  ("seat_prices", price_entries, SeatPricesFileSchema)):
        if not entries and not broken.get(schema):
            findings.append(Finding(Location(shown, 1, 1), f"missing_{kind}", f"no {kind} entries in the set"))
        seen = {}
        for entry in entries:
            day, at = entry.effective_from, entry.where / "effective_from"
            if day in seen:
                findings.append(at.finding("overlapping_entries",
                                           f"another {kind} entry also takes effect on {day} ({seen[day]})"))
            seen[day] = at.location

    rule_docs = {rel: (doc, loaded) for rel, doc, loaded in by_kind.get(RulesFileSchema, [])}
    composer = _Composer(vocabulary, rule_docs, broken.get(RulesFileSchema, set()))
    plans: dict[str, Plan] = {}
    plan_docs = {}
    for rel, doc, loaded in by_kind.get(PlanFileSchema, []):
        plan = composer.plan(doc, loaded)
        if plan.id in plans:
            findings.append(Finding(plan.location, "duplicate_plan", f"plan {plan.id!r} is defined twice"))
        plans[plan.id] = plan
        plan_docs[plan.id] = (doc, loaded)
    findings += composer.findings
    seat_prices = SeatPriceList(price_entries)
    first = seat_prices.on(seat_prices.first_day) if seat_prices.first_day else None
    for plan_id, (doc, loaded) in plan_docs.items():
        where = Where(doc.positions)
        for channel, target in loaded["renews_to"].items():
            if target not in plans:
                findings.append((where / "renews_to" / channel).finding("unknown_plan", f"no plan {target!r}"))
            if channel not in loaded["channels"]:
                findings.append((where / "renews_to" / channel).finding("unknown_channel",
                                                                        f"{channel!r} is not a channel of this plan",
                                                                        at_key=True))
        for seat_type in loaded["seat_types"]:
            if first is not None and seat_type not in first.monthly:
                findings.append((where / "seat_types" / seat_type).finding(
                    "missing_price", f"seat type {seat_type!r} has no monthly price", at_key=True))
            if loaded["usage"] == "included_allowance" and first is not None \
                    and seat_type not in first.included_usage_monthly:
                findings.append((where / "seat_types" / seat_type).finding(
                    "missing_price", f"seat type {seat_type!r} has no included usage", at_key=True))
    if not plans:
        findings.append(Finding(Location(shown, 1, 1), "no_plans", "the set defines no plan"))
    warnings = [Finding(doc.where(()), "unused_rules", f"no plan includes {rel}", WARNING)
                for rel, (doc, _) in rule_docs.items() if rel not in composer.included]
    errors = [f for f in findings if f.severity != WARNING]
    if errors:
        raise PolicyError(findings + warnings)
    version = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()
    return PolicySet(shown, version, files, vocabulary, RateCard(rate_entries), seat_prices, plans,
                     tuple(sort_findings(warnings)), Where(vocabulary_doc.positions))
