"""Scenario fixtures: billing behaviour pinned in YAML, run against a policy set.

A fixture file holds `cases`, each with the billing rules it `cites` (policies/billing-rules.md), what is
`given` (a decision request; `defaults` are merged into every case), and
either `expect` (a partial decision: only the keys written are checked) or
`expect_error` (the input error's code and field). See README "Writing a
fixture".
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import InputError
from ..findings import Finding, Location, PolicyError
from ..load.yaml_source import parse

CASE_KEYS = {"name", "cites", "given", "expect", "expect_error", "note"}


@dataclass
class Case:
    file: str
    name: str
    line: int
    cites: list
    request: dict
    expect: dict | None
    expect_error: dict | None

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class Result:
    case: Case
    passed: bool
    problems: list = field(default_factory=list)
    actual: dict | None = None


def merge(base, override):
    """Deep merge: mappings merge key by key; anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def fixture_files(paths) -> list[Path]:
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*.yaml") if "bad_policies" not in p.parts)
        else:
            out.append(path)
    return out


def load_cases(path: Path) -> list[Case]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:  # as a policy file's: a finding, never a traceback
        raise PolicyError([Finding(Location(str(path), 1, 1), "encoding", f"not UTF-8: {exc}")]) from None
    doc, findings = parse(text, str(path))
    if findings or doc is None:
        raise PolicyError(findings)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise PolicyError([_finding(doc, (), "a fixture file has `cases:`")])
    defaults = data.get("defaults") or {}
    cases, names = [], set()
    for i, raw in enumerate(data["cases"]):
        where = ("cases", i)
        if not isinstance(raw, dict) or "name" not in raw or "given" not in raw:
            raise PolicyError([_finding(doc, where, "a case has `name` and `given`")])
        unknown = set(raw) - CASE_KEYS
        if unknown:
            raise PolicyError([_finding(doc, where, f"unknown case keys {sorted(unknown)}")])
        if ("expect" in raw) == ("expect_error" in raw):
            raise PolicyError([_finding(doc, where, "a case has exactly one of `expect` and `expect_error`")])
        if raw["name"] in names:
            raise PolicyError([_finding(doc, where, f"case name {raw['name']!r} is used twice")])
        names.add(raw["name"])
        cases.append(Case(str(path), raw["name"], doc.where(where).line, list(raw.get("cites") or []),
                          merge(defaults, raw["given"]), raw.get("expect"), raw.get("expect_error")))
    return cases


def _finding(doc, path, message):
    return Finding(doc.where(path), "invalid_fixture", message)


def run_case(evaluator, case: Case) -> Result:
    try:
        decision = evaluator.decide(case.request)
    except InputError as exc:
        if case.expect_error is None:
            return Result(case, False, [f"unexpected input error {exc.code}: {exc}"])
        problems = []
        want = case.expect_error
        if "code" in want and want["code"] != exc.code:
            problems.append(f"error code: expected {want['code']!r}, got {exc.code!r}")
        if "field" in want and want["field"] not in exc.errors:
            problems.append(f"error field: expected {want['field']!r}, got {sorted(exc.errors)}")
        return Result(case, not problems, problems, {"error": exc.code, "errors": exc.errors})
    actual = decision.to_dict(explain=True)
    if case.expect is None:
        return Result(case, False, [f"expected input error {case.expect_error}, got outcome "
                                    f"{actual['outcome']!r}"], actual)
    problems = compare(case.expect, view(actual))
    return Result(case, not problems, problems, actual)


def failing_expectations(result: Result) -> dict:
    """Each expectation key of a failing case that does not hold, with what the
    decision gives for it now (in the fixture's words; see ``view``). An input
    error case gives its failing `code`/`field`. Keys the decision has no value
    for are left out: there is nothing to write for them."""
    actual = result.actual or {}
    if result.case.expect is None:
        want, out = result.case.expect_error or {}, {}
        if "error" not in actual:
            return out
        if "code" in want and want["code"] != actual["error"]:
            out["code"] = actual["error"]
        if "field" in want and want["field"] not in actual["errors"]:
            out["field"] = sorted(actual["errors"])[0]
        return out
    if "outcome" not in actual:
        return {}
    seen = view(actual)
    return {key: seen[key] for key, want in result.case.expect.items()
            if key in seen and compare({key: want}, {key: seen[key]})}


def view(actual: dict) -> dict:
    """The decision in the words fixtures use: reason and resume by code, fired rule names."""
    return {
        **actual,
        "reasons": [r["code"] for r in actual["reasons"]],
        "reason_details": actual["reasons"],
        "resume": actual["resume"],
        "charges_total": actual["charges"]["total"],
        "charges": actual["charges"]["lines"],
        "rules_fired": [t["rule"] for t in actual.get("trace", [])],
    }


def compare(expected, actual, path: str = "") -> list[str]:
    where = path or "decision"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {actual!r}"]
        problems = []
        for key, want in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing in decision")
            elif key == "rules_fired":
                missing = [r for r in want if r not in actual[key]]
                if missing:
                    problems.append(f"{where}.rules_fired: {missing} did not fire (fired: {actual[key]})")
            else:
                problems += compare(want, actual[key], f"{path}.{key}" if path else key)
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        if len(expected) != len(actual):
            return [f"{where}: expected {len(expected)} items {_short(expected)}, got {len(actual)} {_short(actual)}"]
        problems = []
        for i, (want, got) in enumerate(zip(expected, actual)):
            if isinstance(want, str) and isinstance(got, dict):
                # resume, changes and notifications may be written by name only
                got = got.get("action", got.get("change", got.get("type", got)))
            problems += compare(want, got, f"{where}[{i}]")
        return problems
    if _same(expected, actual):
        return []
    return [f"{where}: expected {expected!r}, got {actual!r}"]


def _short(items):
    text = repr(items)
    return text if len(text) < 160 else text[:157] + "..."


def _same(expected, actual) -> bool:
    if expected is None or actual is None or isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    try:  # amounts compare as exact decimals, quoted or not: "0.10" == 0.1
        return Decimal(str(expected)) == Decimal(str(actual))
    except InvalidOperation:
        return str(expected) == str(actual)
