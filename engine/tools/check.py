"""One way to judge a policy directory: load it, lint it, run its fixtures.

`tariff validate`, `tariff test`, the validate endpoint and reload all ask
this module, so a set one of them accepts none of the others refuses:

    verdict = check_policies("policies", fixtures=["fixtures"])
    verdict.valid        # no error finding, and every fixture case passed
    verdict.findings     # located and sorted: load errors, or warnings and lint
    verdict.fixtures     # FixtureReport: each case's Result, broken fixture files

Fixtures run only when asked: each run registers the set's rulesets in the
engine, which can never free one (CONTRIBUTING.md, durable_rules item 6).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..evaluate.evaluator import Evaluator
from ..findings import ERROR, Finding, Location, PolicyError, sort_findings
from ..load.policy_set import PolicySet, load_policy_set
from .verify import Result, fixture_files, load_cases, run_case


@dataclass
class FixtureReport:
    results: list[Result] = field(default_factory=list)
    broken: list[Finding] = field(default_factory=list)  # fixture files that could not be read

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> int:
        return len(self.results) - len(self.failed)

    @property
    def ok(self) -> bool:
        """Every case passed, every file was read, and there was a case to run."""
        return bool(self.results) and not self.failed and not self.broken


@dataclass
class Check:
    root: str
    policy: PolicySet | None
    findings: list[Finding]
    evaluator: Evaluator | None = None
    fixtures: FixtureReport | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def valid(self) -> bool:
        return self.policy is not None and not self.errors and (self.fixtures is None or self.fixtures.ok)


def run_fixtures(evaluator: Evaluator, paths) -> FixtureReport:
    """Every case of the fixture files under ``paths`` (files or folders)."""
    report = FixtureReport()
    for path in fixture_files(paths):
        if not Path(path).exists():
            report.broken.append(Finding(Location(str(path), 1, 1), "not_found", "no such fixture file or folder"))
            continue
        try:
            cases = load_cases(path)
        except PolicyError as exc:
            report.broken += exc.findings
            continue
        report.results += [run_case(evaluator, case) for case in cases]
    return report


def check_policies(root: str | Path, fixtures=None, *, lint: bool = True) -> Check:
    """The verdict on the policy set under ``root``; ``fixtures``: paths to run, or None."""
    from .lint import lint as lint_checks  # the static checks beyond the schema
    try:
        policy = load_policy_set(root)
    except PolicyError as exc:
        return Check(str(root), None, exc.findings)
    findings = list(policy.warnings)
    if lint:
        findings = sort_findings(set(findings) | set(lint_checks(policy)))
    verdict = Check(str(root), policy, findings)
    if fixtures is not None and not verdict.errors:
        verdict.evaluator = Evaluator(policy)
        verdict.fixtures = run_fixtures(verdict.evaluator, fixtures)
    return verdict
