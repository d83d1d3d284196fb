"""Every scenario fixture in fixtures/ as its own test case (id `file::scenario`),
and the coverage the issue asks of them: every SPEC rule number cited by at
least one scenario, and at least 80 scenarios."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tariff.engine import Evaluator, PolicyError, load_policy_set
from tariff.engine.tools.verify import fixture_files, load_cases, run_case

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
POLICIES = REPO / "policies"
RULES_DOC = REPO / "policies" / "billing-rules.md"
SPEC = REPO.parent / "shared" / "SPEC.md"  # where the numbers first came from, when present

# The billing rules every scenario suite must cover; the reference that
# `cites:` numbers resolve to is policies/billing-rules.md (its anchors).
SPEC_RULES = (
    [f"S{i}" for i in range(1, 8)] + [f"U{i}" for i in range(1, 5)] + [f"C{i}" for i in range(1, 6)]
    + [f"A{i}" for i in range(1, 3)] + [f"L{i}" for i in range(1, 6)] + [f"M{i}" for i in range(1, 4)]
    + [f"R{i}" for i in range(1, 5)] + [f"P{i}" for i in range(1, 3)]
)
MIN_SCENARIOS = 80
_SPEC_RULE_LINE = re.compile(r"^- \*\*([A-Z][0-9]+)\*\*", re.MULTILINE)
_ANCHOR = re.compile(r'<a id="([A-Z][0-9]+)"></a>')


def documented_rules() -> set[str]:
    """Every rule and decision number policies/billing-rules.md defines."""
    return set(_ANCHOR.findall(RULES_DOC.read_text(encoding="utf-8")))


def spec_rules() -> set[str]:
    rules = set(SPEC_RULES)
    try:
        rules |= set(_SPEC_RULE_LINE.findall(SPEC.read_text(encoding="utf-8")))
    except OSError:
        pass
    return rules


def _rel(path) -> str:
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return path.as_posix()


def _collect():
    """(id, case) for every scenario; (id, findings) for a file that does not load."""
    cases, broken = [], []
    for path in fixture_files([FIXTURES]):
        try:
            for case in load_cases(path):
                cases.append((f"{_rel(path)}::{case.name}", case))
        except PolicyError as exc:
            broken.append((f"{_rel(path)}::<file does not load>", exc.findings))
    return cases, broken


CASES, BROKEN = _collect()


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator(load_policy_set(POLICIES))


@pytest.mark.parametrize("case", [c for _, c in CASES] + [b for _, b in BROKEN],
                         ids=[i for i, _ in CASES] + [i for i, _ in BROKEN])
def test_fixture(case, evaluator):
    if isinstance(case, list):  # a fixture file that does not load: its findings
        pytest.fail("fixture file does not load:\n" + "\n".join(str(f) for f in case), pytrace=False)
    result = run_case(evaluator, case)
    if not result.passed:
        shown = json.dumps(result.actual, indent=2, default=str) if result.actual is not None else "(none)"
        pytest.fail(f"{case.file}:{case.line}: {case.name}\n"
                    + "\n".join(f"  - {p}" for p in result.problems)
                    + f"\nactual decision:\n{shown}", pytrace=False)


def test_fixture_files_all_load():
    assert not BROKEN, "\n".join(f"{i}: {[str(f) for f in findings]}" for i, findings in BROKEN)


def test_every_spec_rule_is_cited_by_a_scenario():
    cited = {str(c) for _, case in CASES for c in case.cites}
    missing = sorted(spec_rules() - cited, key=lambda r: (r[0], int(r[1:])))
    assert not missing, f"SPEC rules no scenario cites: {missing}"


def test_at_least_80_scenarios():
    count = len(CASES)
    assert count >= MIN_SCENARIOS, f"{count} scenarios; the issue asks for at least {MIN_SCENARIOS}"


def test_every_billing_rule_is_in_the_reference():
    assert spec_rules() <= documented_rules()


def test_every_scenario_cites_only_documented_rule_numbers():
    known = documented_rules()
    uncited = [i for i, case in CASES if not case.cites]
    unknown = [(i, c) for i, case in CASES for c in case.cites if str(c) not in known]
    assert not uncited, f"scenarios citing no rule of policies/billing-rules.md: {uncited}"
    assert not unknown, f"citations policies/billing-rules.md does not define: {unknown}"


def test_spec_rule_list_matches_spec_md_when_present():
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} is not present")
    assert set(_SPEC_RULE_LINE.findall(SPEC.read_text(encoding="utf-8"))) == set(SPEC_RULES)


def test_every_policy_rule_cites_only_documented_rule_numbers():
    policy = load_policy_set(POLICIES)
    known = documented_rules()
    unknown = sorted({(rule.id, c) for plan in policy.plans.values() for rule in plan.rules
                      for c in rule.cites if c not in known})
    assert not unknown, f"rule citations policies/billing-rules.md does not define: {unknown}"
