"""The checks themselves, over every rule as written and composed into plans."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ...evaluate.decision import DEFAULT_DENY
from ...events import PRORATE
from ...findings import Finding, Location, sort_findings
from ...load.conditions import Ref, shown
from ...load.where import Where
from .codes import ALLOW_DEPENDENT, APPLY_EVENTS, CHARGE_EVENTS, CODES, CONTEXT_VALUE_EVENTS, CONTEXT_VALUE_NEEDS
from .logic import Scope, analyse, dnf, dnf_implies, dnf_overlap
from .scopes import _text_domains, generic_scope, plan_scope


@dataclass
class Written:
    """A rule as composed into plans."""
    rule: object  # policy_set.Rule (the first plan's copy)
    dnf: list  # its condition tree as a disjunction of conjunctions of tests
    plans: list = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return (self.rule.source, self.rule.id)

    @property
    def location(self) -> Location:
        return self.rule.location

    @property
    def where(self) -> Where:
        """The rule as written: rules[i] in its file."""
        return self.rule.where


class _Linter:
    def __init__(self, policy):
        self.policy = policy
        self.vocabulary = policy.vocabulary
        self.findings: list[Finding] = []
        self.written: dict[tuple, Written] = {}
        for plan in policy.plans.values():
            for rule in plan.rules:
                key = (rule.source, rule.id)
                if key not in self.written:
                    self.written[key] = Written(rule, dnf(rule.when))
                self.written[key].plans.append(plan)

    def add(self, where, code: str, message: str, at_key: bool = False):
        """A finding at ``where`` (a Location, or a Where: its value, or its key); severity from CODES."""
        location = where if isinstance(where, Location) else (where.key_location if at_key else where.location)
        self.findings.append(Finding(location, code, message, CODES[code]))

    def run(self) -> list[Finding]:
        self.rate_card()
        self.seat_price_order()
        self.values_written()
        self.reachability()
        self.pairs()
        self.effects_fit_events()
        self.limit_hierarchy()
        self.renewals()
        self.unused()
        return self.findings

    # -- rate card and seat prices ------------------------------------------

    def _entries(self, kind: str):
        """(date, Where of the entry, entry), in the order written, file by file."""
        prices = self.policy.rate_card if kind == "rate_card" else self.policy.seat_prices
        return [(entry.effective_from, entry.where, entry) for entry in prices.entries]

    def _order(self, kind: str, entries):
        previous: dict = {}
        for day, where, _ in entries:
            last = previous.get(where.file)
            if last is not None and day < last[0]:
                self.add(where / "effective_from", "entries_out_of_order",
                         f"this {kind} entry takes effect on {day}, before an entry written above it "
                         f"({last[0]}, line {last[1].line}): add new entries at the end, in date order")
            if last is None or day >= last[0]:
                previous[where.file] = (day, (where / "effective_from").location)

    def rate_card(self):
        entries = self._entries("rate_card")
        self._order("rate_card", entries)
        priced: dict = {}  # model -> (date, Where of its rates, has long context)
        retired: dict = {}  # model -> (date, Where of the retire item)
        for day, where, entry in sorted(entries, key=lambda e: e[0]):
            for i, model in enumerate(entry.retire):
                here = where / "retire" / i
                if model not in priced:
                    if model in retired:
                        why = f"it was already retired on {retired[model][0]}"
                    elif any(model in e.models for d, _, e in entries if d > day):
                        why = "it is only priced from a later date"
                    else:
                        why = "it is never priced"
                    self.add(here, "unknown_retired_model",
                             f"retire names {model!r}, which has no price in force on {day}: {why}")
                    continue
                del priced[model]
                retired[model] = (day, here)
            for model, rates in entry.models.items():
                here = where / "models" / model
                if model in retired:
                    gone = retired.pop(model)[0]
                    gap = "in the same entry" if gone == day else f"on {gone}"
                    self.add(here, "retired_model_repriced",
                             f"{model!r} was retired {gap} and is priced again from {day}: "
                             + ("the retirement has no effect" if gone == day else
                                f"usage of it from {gone} to the day before {day} is refused as unknown_model"),
                             at_key=True)
                before = priced.get(model)
                if before is not None and before[2] and rates.long_context is None:
                    self.add(here, "long_context_dropped",
                             f"{model!r} is re-priced from {day} without its long_context tier "
                             f"(line {before[1].key_location.line}): long prompts are billed at the base rates "
                             "from then on", at_key=True)
                priced[model] = (day, here, rates.long_context is not None)
        first_rates = min((d for d, _, _ in entries), default=None)
        first_seats = min((d for d, _, _ in self._entries("seat_prices")), default=None)
        if first_rates and first_seats and first_rates > first_seats:
            where = next(w for d, w, _ in entries if d == first_rates)
            self.add(where / "effective_from", "rate_card_gap",
                     f"the rate card starts on {first_rates}, but seat prices (and so decisions) start on "
                     f"{first_seats}: no usage can be priced before {first_rates}")

    def seat_price_order(self):
        self._order("seat_prices", self._entries("seat_prices"))

    # -- values written in rules -------------------------------------------

    def values_written(self):
        """Literal values a fact or parameter can never take (typos)."""
        known = _text_domains(self.vocabulary)
        levels = set(self.vocabulary["limit_levels"])
        params = {"level": levels, "seat_type": set(self.vocabulary["seat_types"]), "prorate": set(PRORATE),
                  "as_seat_type": set(self.vocabulary["seat_types"]), "plan": set(self.vocabulary["plans"])}
        self.bad_values: set = set()
        for written in self.written.values():
            for conj in written.dnf:
                for atom in conj:
                    if atom.field not in known or isinstance(atom.operand, Ref) or atom.op == "exists":
                        continue
                    values = atom.operand if atom.op in ("in", "not_in") else (atom.operand,)
                    for i, value in enumerate(values):
                        if value not in known[atom.field]:
                            at = atom.operand_where / i if atom.op in ("in", "not_in") else atom.operand_where
                            self.add(at, "unknown_value", f"`{atom.field}` is never {shown(value)!r}: it is one of "
                                     f"{', '.join(sorted(known[atom.field]))}")
                            self.bad_values.add(written.key)
            effects = written.rule.effects
            for group, actions in (("resume", effects.resume), ("notify", effects.notify),
                                   ("charge", effects.charge),
                                   ("transition", (effects.transition,) if effects.transition else ())):
                for i, action in enumerate(actions):
                    for name, value in action.params:
                        allowed = params.get(name)
                        if allowed is None or (isinstance(value, str) and value.startswith("$")) \
                                or value in allowed:
                            continue
                        self.add(action.where / name, "unknown_value",
                                 f"{action.name} {name} {value!r} is not one of {', '.join(sorted(allowed))}")

    # -- can a rule fire? ---------------------------------------------------

    def scopes(self, written: Written):
        for plan in written.plans:
            for event in written.rule.on:
                for channel in plan.channels:
                    yield plan_scope(self.vocabulary, plan, event, channel)

    def reachability(self):
        self.alive: dict[tuple, set] = {}  # rule key -> {(plan id, event, channel)} where it can fire
        for key, written in self.written.items():
            self.alive[key] = set()
            if key in self.bad_values:
                continue
            rule = written.rule
            generic = generic_scope(self.vocabulary, rule.on)
            verdicts = [analyse(conj, generic) for conj in written.dnf]
            if not any(v.ok for v in verdicts):
                for v in verdicts:
                    self.add(v.culprit.where, "contradictory_conditions",
                             f"{v.reason}: rule `{rule.id}` never fires", at_key=True)
                continue
            reasons: dict = {}  # (event, reason) -> {plan: channels}
            for scope in self.scopes(written):
                found = [analyse(conj, scope) for conj in written.dnf]
                if any(v.ok for v in found):
                    self.alive[key].add((scope.plan.id, scope.event, scope.channel))
                else:
                    first = next(v for v in found if not v.ok)
                    reasons.setdefault((scope.event, first.reason), {}).setdefault(scope.plan.id, set()).add(
                        scope.channel)
            if not self.alive[key]:
                self.add(written.location, "never_fires",
                         f"rule `{rule.id}` never fires: " + _why(reasons, rule.on, self.policy.plans))
                continue
            for i, event in enumerate(rule.on):
                if not any(ev == event for _, ev, _ in self.alive[key]):
                    self.add(written.where / "on" / i, "never_fires_on_event", f"rule `{rule.id}` never fires "
                             f"on {event} events: " + _why(reasons, [event], self.policy.plans))

    # -- pairs of rules -----------------------------------------------------

    def pairs(self):
        """Conflicts, shadows and effects made twice, plan by plan."""
        found: dict = {}  # (code, location, message) -> plans
        stands: set = set()  # rules whose allow-dependent effects can stand somewhere
        never: dict = {}  # rule key -> (location, message, plans)
        for plan in self.policy.plans.values():
            for event in sorted(plan.events):
                rules = [self.written[(r.source, r.id)] for r in plan.rules_for(event)]
                for channel in plan.channels:
                    live = [w for w in rules if (plan.id, event, channel) in self.alive.get(w.key, ())]
                    scope = plan_scope(self.vocabulary, plan, event, channel)
                    for w in live:
                        self._stands(w, live, scope, stands, never)
                    for a, b in itertools.permutations(live, 2):
                        self._pair(a, b, scope, found)
        for key, (location, message, plans) in never.items():
            if key not in stands:
                self.add(location, "effects_never_stand", message.replace("{plans}", _plans(plans)))
        for (code, location, message), plans in found.items():
            self.add(location, code, message.replace("{plans}", _plans(plans)))

    @staticmethod
    def _stands(w: Written, live, scope: Scope, stands: set, never: dict):
        effects = w.rule.effects
        names = _allow_dependent(effects)
        if not names or effects.allow:
            return
        if effects.block or effects.refuse:
            message = (f"rule `{w.rule.id}` {'blocks' if effects.block else 'refuses'}, so its "
                       f"{_words(names)} never stand: they only stand when a decision allows")
        elif not any(a.rule.effects.allow and a is not w and dnf_overlap(w.dnf, a.dnf, scope) for a in live):
            message = (f"rule `{w.rule.id}`'s {_words(names)} never stand: no rule that allows "
                       f"{scope.event} events can fire with it ({{plans}})")
        else:
            stop = next((b for b in live if b is not w and (b.rule.effects.block or b.rule.effects.refuse)
                         and dnf_implies(w.dnf, b.dnf, scope)), None)
            if stop is None:
                stands.add(w.key)
                return
            message = (f"rule `{w.rule.id}`'s {_words(names)} never stand: rule `{stop.rule.id}` ({stop.location}) "
                       f"{'refuses' if stop.rule.effects.refuse else 'blocks'} whenever it applies ({{plans}})")
        never.setdefault(w.key, (w.location, message, set()))[2].add(scope.plan.id)

    def _pair(self, a: Written, b: Written, scope: Scope, out: dict):
        ea, eb = a.rule.effects, b.rule.effects
        implied = dnf_implies(a.dnf, b.dnf, scope)
        same = implied and dnf_implies(b.dnf, a.dnf, scope)
        stop = "refuses" if eb.refuse else "blocks" if eb.block else None
        if implied and stop and ea.allow:
            when = "under the same conditions" if same else f"whenever `{a.rule.id}` applies"
            message = (f"rule `{a.rule.id}` allows, but rule `{b.rule.id}` ({b.location}) {stop} {when} "
                       f"({{plans}}): `{a.rule.id}` never takes effect")
            out.setdefault(("conflicting_rules", a.location, message), set()).add(scope.plan.id)
        later = (a.location, a.rule.id) > (b.location, b.rule.id)
        if implied and _adds_nothing(ea, eb) and not (same and _adds_nothing(eb, ea) and not later):
            when = "the same conditions" if same else "a condition that holds whenever this one does"
            message = (f"rule `{a.rule.id}` is shadowed by `{b.rule.id}` ({b.location}), which does the same "
                       f"under {when} ({{plans}})")
            out.setdefault(("shadowed_rule", a.location, message), set()).add(scope.plan.id)
        if not later or not dnf_overlap(a.dnf, b.dnf, scope):
            return  # each pair once, reported at the rule written later
        for what in _twice(eb, ea):
            message = (f"rules `{b.rule.id}` ({b.location}) and `{a.rule.id}` can fire in the same decision "
                       f"({{plans}}) and both {what}")
            out.setdefault(("duplicate_effect", a.location, message), set()).add(scope.plan.id)

    # -- effects that do not fit the event ----------------------------------

    def effects_fit_events(self):
        for written in self.written.values():
            rule = written.rule
            for action in rule.effects.charge:
                fits = CHARGE_EVENTS.get(action.name)
                for event in rule.on:
                    if fits is not None and event not in fits:
                        self.add(action.where, "effect_not_for_event",
                                 f"charge {action.name} prices {' and '.join(sorted(fits))} events, not {event}")
            for name, at in zip(rule.effects.apply, rule.effects.apply_at):
                fits = APPLY_EVENTS.get(name)
                for event in rule.on:
                    if fits is not None and event not in fits:
                        self.add(at, "effect_not_for_event",
                                 f"apply {name} records {' and '.join(sorted(fits))} events, not {event}")
            for group, actions in (("resume", rule.effects.resume), ("notify", rule.effects.notify),
                                   ("charge", rule.effects.charge),
                                   ("transition", (rule.effects.transition,) if rule.effects.transition else ())):
                for i, action in enumerate(actions):
                    for name, value in action.params:
                        if not (isinstance(value, str) and value.startswith("$")):
                            continue
                        known_on = CONTEXT_VALUE_EVENTS.get(value[1:])
                        missing = [e for e in rule.on if known_on is not None and e not in known_on]
                        if missing:
                            self.add(action.where / name, "context_value_unavailable",
                                     f"{value} is only known for sure on {_words(sorted(known_on))} events; on "
                                     f"{_words(missing)} events it may be empty ({CONTEXT_VALUE_NEEDS[value[1:]]})")

    # -- limit hierarchy ----------------------------------------------------

    def limit_hierarchy(self):
        reasons = self.vocabulary["reasons"]
        levels = self.vocabulary["limit_levels"]
        voc = self.policy.vocabulary_where
        for code, spec in reasons.items():
            level = spec.get("level")
            if level is not None and level not in levels and voc:
                self.add(voc / "reasons" / code / "level", "unknown_level",
                         f"reason {code!r} is about the {level!r} limit, which is not one of limit_levels "
                         f"({', '.join(levels)})")
        for plan in self.policy.plans.values():
            listed = plan.where / "limit_levels"
            first: dict = {}  # level -> index of its first mention
            for i, level in enumerate(plan.limit_levels):
                if level in first:
                    self.add(listed / i, "duplicate_level",
                             f"{level!r} is already listed at line {(listed / first[level]).location.line}")
                first.setdefault(level, i)
            enforced = set()
            for rule in plan.rules:
                written = self.written[(rule.source, rule.id)]
                alive = any(p == plan.id for p, _, _ in self.alive.get(written.key, ()))
                code = rule.effects.block or rule.effects.refuse
                level = reasons.get(code, {}).get("level") if code else None
                if level is not None and level not in plan.limit_levels:
                    key = "block" if rule.effects.block else "refuse"
                    self.add(written.where / "then" / key, "limit_level_not_on_plan",
                             f"reason {code!r} is about the {level} limit, but plan {plan.id} has no {level} "
                             f"limit (limit_levels: {', '.join(plan.limit_levels) or 'none'})")
                elif level is not None and alive:
                    enforced.add(level)
                if not alive:
                    continue
                for i, action in enumerate(rule.effects.resume):
                    params = dict(action.params)
                    if action.name == "raise_limit" and params.get("level") in levels \
                            and params["level"] not in plan.limit_levels:
                        self.add(action.where / "level",
                                 "resume_level_not_on_plan",
                                 f"rule `{rule.id}` tells the member to raise the {params['level']} limit, but "
                                 f"plan {plan.id} has no {params['level']} limit")
            for level, i in first.items():
                if level not in enforced:
                    self.add(listed / i, "limit_level_unenforced",
                             f"plan {plan.id} lets owners set {_a(level)} limit, but none of its rules blocks at "
                             f"it (no rule that can fire blocks with a reason whose level is {level})")

    # -- renewals -----------------------------------------------------------

    def renewals(self):
        plans = self.policy.plans
        for plan in plans.values():
            for channel, target in plan.renews_to.items():
                if target in plans and channel not in plans[target].channels:
                    self.add(plan.where / "renews_to" / channel, "renewal_channel",
                             f"on {channel} this plan renews to {target}, which is not sold {channel} "
                             f"({', '.join(plans[target].channels)})")
            for rule in plan.rules:
                written = self.written[(rule.source, rule.id)]
                uses = [a for a in (*rule.effects.resume, rule.effects.transition)
                        if a is not None and any(v == "$renewal_plan" for _, v in a.params)]
                for channel in plan.channels:
                    if channel in plan.renews_to:
                        continue
                    if not any(p == plan.id and c == channel for p, _, c in self.alive.get(written.key, ())):
                        continue
                    for action in uses:
                        name = next(k for k, v in action.params if v == "$renewal_plan")
                        self.add(action.where / name,
                                 "missing_renewal_target",
                                 f"rule `{rule.id}` names $renewal_plan, but plan {plan.id} does not say what it "
                                 f"renews to on {channel} (renews_to)")

    # -- definitions nothing uses ------------------------------------------

    def unused(self):
        used = {"reasons": {DEFAULT_DENY}, "resume": set(), "notifications": set(), "transitions": set()}
        for written in self.written.values():
            e = written.rule.effects
            used["reasons"] |= {c for c in (e.block, e.refuse) if c}
            used["resume"] |= {a.name for a in e.resume}
            used["notifications"] |= {a.name for a in e.notify}
            if e.transition:
                used["transitions"].add(e.transition.name)
        plans = self.policy.plans.values()
        seat_types = {s for p in plans for s in p.seat_types}
        allowance = {s for p in plans if p.usage == "included_allowance" for s in p.seat_types}
        products = {x for p in plans for ps in p.seat_types.values() for x in ps}
        in_use = {
            "plans": set(self.policy.plans), "seat_types": seat_types, "products": products,
            "channels": {c for p in plans for c in p.channels}, "limit_levels": {lv for p in plans
                                                                                for lv in p.limit_levels},
        }
        voc = self.policy.vocabulary_where
        if voc is not None:
            words = {"reasons": "reason code", "resume": "resume option", "notifications": "notification",
                     "transitions": "transition"}
            for section, names in used.items():
                for name in self.vocabulary[section]:
                    if name not in names:
                        self.add(voc / section / name, "unused_definition",
                                 f"{words[section]} {name!r} is not used by any rule of any plan",
                                 at_key=True)
            what = {"plans": "has no plan file", "seat_types": "is not a seat type of any plan",
                    "products": "is in no plan's seat types", "channels": "is not a channel of any plan",
                    "limit_levels": "is not a limit level of any plan"}
            for section, names in in_use.items():
                for i, name in enumerate(self.vocabulary[section]):
                    if name not in names:
                        self.add(voc / section / i, "unused_definition",
                                 f"{section[:-1].replace('_', ' ')} {name!r} {what[section]}")
        for entry in self.policy.seat_prices.entries:
            for part, wanted, why in (("monthly", seat_types, "no plan has that seat type"),
                                      ("hipaa_addon_monthly", seat_types, "no plan has that seat type"),
                                      ("included_usage_monthly", allowance,
                                       "no plan with included usage has that seat type")):
                for seat_type in getattr(entry, part):
                    if seat_type not in wanted:
                        self.add(entry.where / part / seat_type, "unused_definition",
                                 f"{part} price for {seat_type!r} is never used: {why}", at_key=True)


def _allow_dependent(effects) -> list[str]:
    """The effects besides `allow` that a rule makes and that only stand when a decision allows."""
    return [words for name, words in ALLOW_DEPENDENT.items() if getattr(effects, name)]


def _adds_nothing(a, b) -> bool:
    """Whatever ``a`` does, ``b`` does too (and ``a`` makes nothing twice-countable)."""
    if a.charge or a.apply or a.notify or a.transition:
        return False  # those are duplicate effects, reported as such
    return (not a.allow or b.allow) and (not a.block or a.block == b.block) and \
        (not a.refuse or a.refuse == b.refuse) and set(a.resume) <= set(b.resume)


def _twice(a, b):
    """What two rules firing together would both make."""
    for name in sorted({x.name for x in a.charge} & {x.name for x in b.charge}):
        yield f"charge {name}: it is charged twice"
    for name in sorted(set(a.apply) & set(b.apply)):
        yield f"apply {name}: the ledger gets it twice"
    for action in sorted(set(a.notify) & set(b.notify), key=str):
        yield f"notify {action.name} with the same parameters: it is sent twice"
    if a.transition and b.transition:
        yield "announce a transition: a decision keeps only one"


def _why(reasons: dict, events, plans: dict) -> str:
    """Reasons a rule never fires, each with the plans (and channels) it holds for."""
    out = []
    for event in events:
        for (ev, reason), channels_by_plan in reasons.items():
            if ev != event:
                continue
            where = [plan if channels == set(plans[plan].channels) else f"{plan} on {_words(sorted(channels))}"
                     for plan, channels in sorted(channels_by_plan.items())]
            out.append(f"{reason} for {event} events ({'plan' if len(where) == 1 else 'plans'} {', '.join(where)})")
    return "; ".join(dict.fromkeys(out))


def _words(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _plans(plans: set) -> str:
    return ("plan " if len(plans) == 1 else "plans ") + ", ".join(sorted(plans))


def lint(policy) -> list[Finding]:
    """Every static finding for a loaded PolicySet, sorted by place."""
    return sort_findings(_Linter(policy).run())
