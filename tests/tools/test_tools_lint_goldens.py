"""Golden bad policies: each case in fixtures/bad_policies/ pins the exact
findings `tariff validate` prints for the shipped policies with a few files
replaced or added.

A case directory holds overlay files laid out like policies/ (copied over a
copy of the shipped set), a README.md saying what is wrong, and expected.txt
with the exact finding lines (the summary line is not pinned). Paths are
stable because validation runs from the temporary parent with the relative
path "policies".

To re-record after a deliberate change: TARIFF_UPDATE_GOLDENS=1 pytest
tests/tools/test_tools_lint_goldens.py, then read the diff.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tariff.cli.main import main
from tariff.engine import load_policy_set
from tariff.engine.tools.lint import CODES, lint

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "fixtures" / "bad_policies"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
NOT_OVERLAY = {"expected.txt", "README.md"}


def validate_with_overlay(case: Path, tmp_path: Path, monkeypatch, capsys) -> tuple[int, list[str]]:
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    for source in sorted(case.rglob("*")):
        if source.is_file() and source.name not in NOT_OVERLAY:
            target = policies / source.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["validate", "policies"])
    lines = capsys.readouterr().out.splitlines()
    return code, lines[:-1]  # the last line is the summary


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tools_golden_bad_policy(case, tmp_path, monkeypatch, capsys):
    code, lines = validate_with_overlay(case, tmp_path, monkeypatch, capsys)
    expected_file = case / "expected.txt"
    if os.environ.get("TARIFF_UPDATE_GOLDENS"):
        expected_file.write_text("".join(line + "\n" for line in lines))
    expected = expected_file.read_text().splitlines()
    assert lines == expected
    assert code == (1 if any(": error: " in line for line in expected) else 0)


def test_tools_every_case_says_what_is_wrong():
    for case in CASES:
        assert (case / "README.md").read_text().strip(), case.name
        assert (case / "expected.txt").read_text().strip(), case.name


def test_tools_each_lint_check_is_pinned_by_a_case_of_its_name():
    """Every code lint can report has a case named after it, which reports it."""
    for code, severity in CODES.items():
        case = CASES_DIR / code
        assert case.is_dir(), f"no golden case for {code}"
        assert f": {severity}: {code}: " in (case / "expected.txt").read_text(), code


def test_tools_schema_goldens_cover_the_loader_errors():
    pinned = "".join((c / "expected.txt").read_text() for c in CASES if c.name.startswith("schema_"))
    for code in ("invalid_value", "unknown_field", "yaml_syntax", "unknown_reason", "unknown_fact",
                 "overlapping_entries"):
        assert f": error: {code}: " in pinned, code
    many = (CASES_DIR / "schema_many_errors" / "expected.txt").read_text().splitlines()
    assert len({line.split(":")[0] for line in many}) >= 4, "several files, all reported at once"


def test_tools_goldens_are_sorted_by_place():
    for case in CASES:
        lines = (case / "expected.txt").read_text().splitlines()
        keys = []
        for line in lines:
            file, row, col = line.split(":")[:3]
            keys.append((file, int(row) if row.isdigit() else 0, int(col) if col.strip().isdigit() else 0))
        assert keys == sorted(keys), case.name


def test_tools_shipped_policies_lint_clean():
    assert lint(load_policy_set(ROOT / "policies")) == []
