"""`tariff test --accept` round-trips a price change: the fixtures that pin
later charges fail, are accepted, then pass, and the rewrite touches only the
expectations that changed (comments, order, quoting and every other line stay
byte for byte)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tariff.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
HAIKU_PRICE_CHANGE = """
  - effective_from: 2026-03-01
    source: a price change, for the test of --accept
    models:
      claude-haiku-4-5:
        {input: 1.20, output: 6, cache_write_5m: 1.50, cache_write_1h: 2.40, cache_read: 0.12}
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures", ignore=shutil.ignore_patterns("bad_policies"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def texts(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted((root / "fixtures").rglob("*.yaml"))}


def expectation_lines(text: str) -> set[int]:
    """0-based line numbers inside some case's `expect:` or `expect_error:`."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    cases = next(v for k, v in root.value if k.value == "cases")
    out = set()
    for case in cases.value:
        for key, value in case.value:
            if key.value in ("expect", "expect_error"):
                out.update(range(key.start_mark.line, value.end_mark.line + 1))
    return out


def test_a_price_change_is_accepted_and_only_expectations_change(repo, capsys):
    assert main(["test"]) == 0
    total = sum(line.startswith("PASS ") for line in capsys.readouterr().out.splitlines())
    with open(repo / "policies" / "rate_card.yaml", "a") as f:
        f.write(HAIKU_PRICE_CHANGE)
    before = texts(repo)
    capsys.readouterr()
    assert main(["test"]) == 1
    failing = {line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL ")}
    assert len(failing) > 5

    assert main(["test", "--accept"]) == 0
    out = capsys.readouterr().out
    assert f"accepted {len(failing)} case(s)" in out and f"now {total} passed, 0 failed" in out
    assert "+++ fixtures/" in out  # the diff is printed for review
    after = texts(repo)
    touched = {name for name in before if before[name] != after[name]}
    assert touched == {case.split("::")[0] for case in failing}
    for name in touched:
        old, new = before[name].splitlines(), after[name].splitlines()
        assert len(old) == len(new)  # these rewrites change values, not layout
        inside = expectation_lines(before[name])
        changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        assert changed and set(changed) <= inside, name
        assert [line for line in old if line.lstrip().startswith("#")] == \
            [line for line in new if line.lstrip().startswith("#")]
    assert main(["test"]) == 0


def test_a_case_that_changed_kind_is_left_for_a_hand_edit(repo, capsys):
    case = repo / "fixtures" / "cross_plan" / "accept_kind.yaml"
    case.write_text("""cases:
  - name: expected an error, now decides
    given:
      plan: enterprise_self_serve
      as_of: 2026-04-10
      organization: {term_start: 2026-01-01, credit_balance: "0", spend: "1"}
      member: {role: member, spend: "0"}
      event: {type: usage_precheck, product: chat}
    expect_error: {code: unknown_model, field: event.model}
  - name: a flow expectation is rewritten in flow style
    given:
      plan: enterprise_self_serve
      as_of: 2026-04-10
      organization: {term_start: 2026-01-01, credit_balance: "0", spend: "1"}
      member: {role: member, spend: "0"}
      event: {type: usage_precheck, product: chat}
    expect: {outcome: allow, reasons: [org_limit_reached]}  # keep this comment
""")
    assert main(["test", "fixtures/cross_plan/accept_kind.yaml", "--accept"]) == 1
    out = capsys.readouterr().out
    assert "NOT ACCEPTED fixtures/cross_plan/accept_kind.yaml::expected an error, now decides" in out
    text = case.read_text()
    assert "expect_error: {code: unknown_model, field: event.model}" in text
    assert "    expect: {outcome: block, reasons: [credits_exhausted]}  # keep this comment\n" in text
