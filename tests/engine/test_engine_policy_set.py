"""engine.policy_set: a policy directory in, a validated PolicySet out, or
every finding at once (sorted, located); a broken set never loads."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tariff.engine import PolicyError, PolicySet, load_policy_set
from tariff.engine.compile.conditions import compile_condition
from tariff.engine.load.policy_set import CITE
from engine_testkit import copy_policies


def edit(root: Path, rel: str, old: str, new: str) -> int:
    """Replace ``old`` (written once) in a policy file; the line ``new`` starts on."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not written exactly once in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def load_error(root) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy_set(root)
    return info.value


def test_the_shipped_set_loads_cleanly(policy):
    assert isinstance(policy, PolicySet)
    assert sorted(policy.plans) == ["enterprise_sales_assisted", "enterprise_self_serve", "legacy_chat_code",
                                    "seat_based"]
    assert policy.warnings == ()
    assert re.fullmatch(r"[0-9a-f]{64}", policy.version)
    assert "vocabulary.yaml" in policy.files and "rules/usage.yaml" in policy.files


def test_every_rule_knows_where_it_is_written(policy):
    for plan in policy.plans.values():
        for rule in plan.rules:
            assert rule.location.file.startswith(policy.root + "/")
            assert rule.location.line >= 1 and rule.location.column >= 1
            assert all(CITE.match(c) for c in rule.cites), rule.id
            assert rule.on


def test_each_expands_into_one_rule_per_combination(policy):
    notify = [r for r in policy.plans["legacy_chat_code"].rules if r.id.startswith("notify_")]
    assert sorted(r.id for r in notify) == sorted(f"notify_{level}_{pct}"
                                                  for level in ("organization", "seat_type", "individual")
                                                  for pct in (50, 80, 100))
    rule = next(r for r in notify if r.id == "notify_individual_80")
    assert rule.effects.notify[0].params == (("level", "individual"), ("threshold_pct", 80))
    assert {"$gte": {"individual_pct": 80}} in compile_condition(rule.when)["$and"]


def test_shared_rule_modules_are_composed_not_copied(policy):
    usage = {p: next(r for r in plan.rules if r.id == "usage_allowed") for p, plan in policy.plans.items()
             if any(r.id == "usage_allowed" for r in plan.rules)}
    assert len(usage) == 3
    assert len({r.location for r in usage.values()}) == 1  # one place written, three plans


def test_the_version_is_the_content(tmp_path, policy):
    root = copy_policies(tmp_path)
    assert load_policy_set(root).version == policy.version
    edit(root, "seat_prices.yaml", "enterprise: 60", "enterprise: 61")
    assert load_policy_set(root).version != policy.version


def test_every_error_in_every_file_is_reported_at_once_sorted_and_located(tmp_path):
    root = copy_policies(tmp_path)
    shown = str(root)
    expected = {
        ("rules/credits.yaml", edit(root, "rules/credits.yaml", "- credit_balance: {lte: 0}",
                                    "- credit_balanse: {lte: 0}"), "unknown_fact"),
        ("rules/usage.yaml", edit(root, "rules/usage.yaml", "refuse: billing_cannot_be_disabled",
                                  "refuse: billing_cannot_be_disbled"), "unknown_reason"),
        ("seat_prices.yaml", edit(root, "seat_prices.yaml", "premium: 150", "premium: lots"), "invalid_value"),
        ("plans/seat_based.yaml", edit(root, "plans/seat_based.yaml", "- rules/seats.yaml",
                                       "- rules/seat.yaml"), "unknown_include"),
        ("rate_card.yaml", edit(root, "rate_card.yaml", "        cache_read: 0.30\n        long_context:",
                                "        cache_read: 0.30\n        bogus: 1\n        long_context:") + 1,
         "unknown_field"),
    }
    error = load_error(root)
    found = {(f.location.file[len(shown) + 1:], f.location.line, f.code) for f in error.findings}
    assert expected <= found, sorted(found)
    assert error.findings == sorted(error.findings)
    # a finding about the set as a whole is placed at the directory
    assert all((f.location.file.startswith(shown + "/") or f.location.file == shown) and f.location.column >= 1
               for f in error.findings)
    assert all(f.severity == "error" for f in error.errors)
    # printed as file:line:col: severity: code: message, one per line
    for line in str(error).splitlines():
        assert re.match(rf"{re.escape(shown)}(/\S+)?:\d+:\d+: (error|warning): [a-z_]+: ", line), line


def test_a_rule_error_points_at_the_exact_column(tmp_path):
    root = copy_policies(tmp_path)
    line = edit(root, "rules/limit_changes.yaml", "level_available: true", "level_availble: true")
    [finding] = load_error(root).findings
    text = (root / "rules/limit_changes.yaml").read_text().splitlines()[line - 1]
    assert (finding.code, finding.location.line, finding.location.column) == (
        "unknown_fact", line, text.index("level_availble") + 1)
    assert finding.to_dict() == {"file": f"{root}/rules/limit_changes.yaml", "line": line,
                                 "column": text.index("level_availble") + 1, "severity": "error",
                                 "code": "unknown_fact", "message": finding.message}


def test_a_syntax_error_and_a_schema_error_in_other_files_are_both_reported(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "rules/seats.yaml", "cites: [S3, D9]\n    on: [seats_added]\n",
         "cites: [S3, D9]\n    on: [seats_added\n")
    schema_line = edit(root, "plans/legacy_chat_code.yaml", "usage: pooled", "usage: pool")
    codes = {(Path(f.location.file).name, f.code) for f in load_error(root).findings}
    assert ("seats.yaml", "yaml_syntax") in codes
    assert ("legacy_chat_code.yaml", "invalid_value") in codes
    assert schema_line > 1


def test_a_single_broken_file_never_yields_a_policy_set(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "rules/renewal.yaml", "charge: term_seats", "charge: term_seat")
    error = load_error(root)
    assert [f.code for f in error.errors] == ["unknown_name"]


def test_a_rule_id_defined_twice_in_one_plan(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "plans/seat_based.yaml", "- id: extra_usage_invoice_issued", "- id: usage_within_seat")
    assert "duplicate_rule" in [f.code for f in load_error(root).findings]


def test_an_unbound_placeholder(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "rules/limit_notifications.yaml", 'threshold_pct: "{pct}"', 'threshold_pct: "{pcts}"')
    assert "unbound_placeholder" in [f.code for f in load_error(root).findings]


def test_unknown_plan_vocabulary_and_missing_seat_price(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "plans/seat_based.yaml", "premium: {products: [chat, claude_code]}",
         "premium: {products: [chat, claude_code]}\n  platinum: {products: [chat, claude_codex]}")
    codes = sorted(f.code for f in load_error(root).findings)
    assert codes == ["missing_price", "missing_price", "unknown_product", "unknown_seat_type"]


def test_an_unused_rule_module_is_a_warning_not_an_error(tmp_path):
    root = copy_policies(tmp_path)
    (root / "rules" / "spare.yaml").write_text("rules:\n  - id: spare\n    on: [usage]\n    then: {allow: true}\n")
    policy = load_policy_set(root)
    assert [(w.code, w.severity) for w in policy.warnings] == [("unused_rules", "warning")]


def test_a_file_of_no_known_kind(tmp_path):
    root = copy_policies(tmp_path)
    (root / "notes.yaml").write_text("hello: world\n")
    assert [f.code for f in load_error(root).findings] == ["unknown_file_kind"]


def test_no_vocabulary(tmp_path):
    root = copy_policies(tmp_path)
    (root / "vocabulary.yaml").unlink()
    assert "vocabulary" in [f.code for f in load_error(root).findings]


def test_two_rate_card_entries_on_one_day(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "rate_card.yaml", "effective_from: 2025-11-24", "effective_from: 2025-01-01")
    assert "overlapping_entries" in [f.code for f in load_error(root).findings]


def test_no_such_directory(tmp_path):
    [finding] = load_error(tmp_path / "nope").findings
    assert (finding.code, finding.message) == ("not_found", "no such policy directory")


def test_a_file_given_for_the_directory_is_called_a_file(tmp_path):
    (tmp_path / "plan.yaml").write_text("kind: plan\n")
    [finding] = load_error(tmp_path / "plan.yaml").findings
    assert (finding.code, finding.message) == ("not_found", "a file, not a policy directory")


def test_a_file_that_is_not_utf8(tmp_path):
    root = copy_policies(tmp_path)
    (root / "rules" / "latin1.yaml").write_bytes("# caf\xe9\nrules: []\n".encode("latin-1"))
    assert [f.code for f in load_error(root).findings] == ["encoding"]


def test_a_sexagesimal_value_is_a_finding_not_a_crash(tmp_path):
    root = copy_policies(tmp_path)
    edit(root, "seat_prices.yaml", "chat: 30 ", "chat: 1:30 ")
    try:
        load_policy_set(root)
    except PolicyError:
        pass


def test_nothing_loaded_keeps_raw_yaml(policy):
    """Loading reads each file's data once: the loaded objects keep where they
    are written (positions), never a Document, so no later stage re-reads YAML."""
    import dataclasses
    from tariff.engine.load.yaml_source import Document, Positions

    seen, stack, positions = set(), [policy], 0
    while stack:
        value = stack.pop()
        if id(value) in seen or isinstance(value, (str, int, Decimal, date)) or value is None:
            continue
        seen.add(id(value))
        assert not isinstance(value, Document), "a loaded object keeps a raw YAML document"
        if isinstance(value, Positions):
            positions += 1
            continue
        if dataclasses.is_dataclass(value):
            stack += [getattr(value, f.name) for f in dataclasses.fields(value)]
        elif isinstance(value, dict):
            stack += list(value.keys()) + list(value.values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack += list(value)
        elif hasattr(value, "__dict__"):
            stack += list(vars(value).values())
    assert positions > 10  # rules, plans, price entries and the vocabulary know where they are written
    assert not hasattr(policy, "documents")
