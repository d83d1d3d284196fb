"""`tariff diff`: replaying recorded requests under two policy sets.

The expected money differences are worked out by hand in each test.
"""
from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tariff.cli.main import main
from tariff.engine import load_policy_set
from tariff.engine.tools.replay import EventsError, read_events, replay

ROOT = Path(__file__).resolve().parents[2]

# One price changes: Haiku 4.5 input goes from 1 to 1.25 USD per million
# tokens from 1 April 2026. Nothing else changes.
HAIKU_PRICE_CHANGE = """
  - effective_from: 2026-04-01
    source: test price change
    models:
      claude-haiku-4-5:
        {input: 1.25, output: 5, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.10}
"""


def _usage(org, plan, as_of, tokens, **extra):
    request = {
        "plan": plan, "as_of": as_of,
        "organization": {"id": org, "spend": "0", "limit": "unlimited", "credit_balance": "1000"},
        "member": {"id": f"{org}-m1", "role": "member", "spend": "0"},
        "event": {"type": "usage", "product": "chat", "model": "claude-haiku-4-5", "tokens": tokens},
    }
    for key, value in extra.items():
        request[key] = {**request[key], **value} if isinstance(value, dict) else value
    return request


EVENTS = [
    # o-1, self-serve, after the change: 2,000,000 input tokens cost 2.00 before and 2.50 after; the 10,000
    # output tokens cost 0.05 either way. Organization spend 397.60 of 500 (50% already notified): before,
    # 397.60 + 2.05 = 399.65 (79%); after, 397.60 + 2.55 = 400.15 (80%): the 80% notification is new.
    _usage("o-1", "enterprise_self_serve", "2026-04-10", {"input": 2_000_000, "output": 10_000},
           organization={"spend": "397.60", "limit": "500", "notified_pct": 50}),
    # o-1, before the change takes effect: same price under both sets.
    _usage("o-1", "enterprise_self_serve", "2026-03-31", {"input": 1_000_000}),
    # o-2, sales-assisted: 333,333 input tokens x 0.25 USD per million more = 0.08333325.
    _usage("o-2", "enterprise_sales_assisted", "2026-05-02", {"input": 333_333}),
    # o-2, a precheck: nothing is charged under either set.
    {"plan": "enterprise_sales_assisted", "as_of": "2026-05-02",
     "organization": {"id": "o-2", "spend": "10"}, "member": {"id": "o-2-m1", "role": "member", "spend": "1"},
     "event": {"type": "usage_precheck", "product": "chat"}},
    # o-3, seat-based Standard seat (25 USD included a month), 24.90 already used, extra usage on:
    # 1,000,000 input tokens cost 1.00 before (0.10 included, 0.90 extra billed) and 1.25 after
    # (0.10 included, 1.15 extra billed): 0.25 more.
    _usage("o-3", "seat_based", "2026-06-15", {"input": 1_000_000},
           channel="sales_assisted", organization={"extra_usage": True},
           member={"seat_type": "standard", "included_used": "24.90"}),
    # A request that is malformed under any policy: counted, not compared.
    {"plan": "enterprise_self_serve", "as_of": "2026-04-10", "event": {"type": "usage"}},
]
EXPECTED = {
    ("o-1", "enterprise_self_serve"): Decimal("0.5"),
    ("o-2", "enterprise_sales_assisted"): Decimal("0.08333325"),
    ("o-3", "seat_based"): Decimal("0.25"),
}


@pytest.fixture
def changed_policies(tmp_path) -> Path:
    new = tmp_path / "new_policies"
    shutil.copytree(ROOT / "policies", new)
    card = new / "rate_card.yaml"
    card.write_text(card.read_text() + HAIKU_PRICE_CHANGE)
    return new


@pytest.fixture
def events_file(tmp_path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return path


def test_tools_replay_reports_the_exact_money_difference(changed_policies, events_file):
    report = replay(load_policy_set(ROOT / "policies"), load_policy_set(changed_policies), read_events(events_file))
    deltas = {key: group.delta for key, group in report.groups.items()}
    assert deltas == EXPECTED
    assert report.totals.delta == Decimal("0.83333325")
    assert report.groups[("o-1", "enterprise_self_serve")].old_charges == Decimal("2.05") + Decimal("1")
    assert report.groups[("o-1", "enterprise_self_serve")].new_charges == Decimal("2.55") + Decimal("1")
    assert dict(report.groups[("o-1", "enterprise_self_serve")].notifications_gained) == {
        "spend_threshold organization 80%": 1}
    assert report.invalid == {"invalid_request": 1}
    assert report.events == len(EVENTS)
    assert not report.totals.newly_blocked and not report.totals.outcome_changes


def test_tools_diff_cli_table_and_json(changed_policies, events_file, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["diff", "policies", str(changed_policies), "--events", str(events_file)]) == 0
    text = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in text.splitlines()
            if line.startswith(("o-", "TOTAL")) and " / " not in line}
    assert rows["o-1"][5] == "+0.5" and rows["o-2"][5] == "+0.08333325" and rows["o-3"][5] == "+0.25"
    assert rows["TOTAL"][4] == "+0.83333325"  # TOTAL has an empty plan column
    assert "notifications gained: spend_threshold organization 80% x1" in text

    assert main(["diff", "policies", str(changed_policies), "--events", str(events_file), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["totals"]["change"] == "0.83333325"
    assert {(g["organization"], g["plan"]): Decimal(g["change"]) for g in body["groups"]} == EXPECTED


def test_tools_diff_newly_blocked_and_transitions(tmp_path, monkeypatch, capsys):
    """A rules change: members are blocked at 90% of their individual limit, and self-serve seat-based
    customers renew to the sales-assisted plan."""
    new = tmp_path / "new_policies"
    shutil.copytree(ROOT / "policies", new)
    limits = new / "rules" / "spend_limits.yaml"
    text = limits.read_text()
    old_test = "        - individual_spend: {gte: {field: individual_limit}}\n"
    assert old_test in text
    limits.write_text(text.replace(old_test, old_test + "        - individual_pct: {gte: 90}\n"))
    plan = new / "plans" / "seat_based.yaml"
    plan.write_text(plan.read_text().replace("  self_serve: enterprise_self_serve\n",
                                             "  self_serve: enterprise_sales_assisted\n"))
    events = [
        # 95 of 100 spent: allowed before (under the limit), blocked now (at 95%).
        {"plan": "enterprise_self_serve", "as_of": "2026-04-10",
         "organization": {"id": "o-9", "spend": "95", "credit_balance": "100"},
         "member": {"id": "m-eve", "role": "member", "spend": "95", "limit": "100"},
         "event": {"type": "usage_precheck", "product": "chat"}},
        # 50 of 100: allowed under both.
        {"plan": "enterprise_self_serve", "as_of": "2026-04-10",
         "organization": {"id": "o-9", "spend": "95", "credit_balance": "100"},
         "member": {"id": "m-dan", "role": "member", "spend": "50", "limit": "100"},
         "event": {"type": "usage_precheck", "product": "chat"}},
        {"plan": "seat_based", "as_of": "2027-01-01", "channel": "self_serve",
         "organization": {"id": "o-8", "term_start": "2026-01-01", "seats": {"standard": 2}},
         "event": {"type": "renewal"}},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    report = replay(load_policy_set(ROOT / "policies"), load_policy_set(new), read_events(path))
    o9 = report.groups[("o-9", "enterprise_self_serve")]
    assert o9.newly_blocked == {"m-eve"} and o9.newly_blocked_events == 1 and not o9.unblocked
    assert o9.delta == 0
    o8 = report.groups[("o-8", "seat_based")]
    assert dict(o8.transitions_changed) == {
        "move_to_enterprise_seat(date=2027-01-01, hipaa_addon_ended=False, plan=enterprise_self_serve) -> "
        "move_to_enterprise_seat(date=2027-01-01, hipaa_addon_ended=False, plan=enterprise_sales_assisted)": 1}
    # Renewal charges 2 Enterprise seats x 60 x 12 = 1440 under both sets.
    assert o8.old_charges == o8.new_charges == Decimal("1440")


def test_tools_diff_reads_yaml_fixtures_as_events(changed_policies):
    old = load_policy_set(ROOT / "policies")
    report = replay(old, load_policy_set(changed_policies), read_events(ROOT / "fixtures"))
    assert report.events > 50
    same = replay(old, old, read_events(ROOT / "fixtures"))
    assert same.totals.delta == 0 and not any(g.changed for g in same.groups.values())


def test_tools_diff_bad_events_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text('{"plan": "x"}\n{not json\n')
    with pytest.raises(EventsError, match=r"events.jsonl:2: not valid JSON"):
        list(read_events(path))
    monkeypatch.chdir(ROOT)
    assert main(["diff", "policies", "policies", "--events", str(path)]) == 1
    assert "not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("content, says", [
    (b'{"plan": "x"}\n\xd0\x00not text\n', "events.jsonl:2:1: not UTF-8 text"),
    (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "events.jsonl:1: nested too deeply"),
    (b'{"plan": "x", "plan": "enterprise_self_serve"}\n', "events.jsonl:1: plan: appears more than once"),
    (b'{"plan": "a\\u0000b"}\n', "events.jsonl:1: plan: contains a NUL character"),
    (b'{"plan": "a\\ud800b"}\n', "events.jsonl:1: plan: contains a lone surrogate"),
    (b'{"as_of": 1E+999999999}\n', "events.jsonl:1: as_of: the number's exponent is out of range"),
    (b"root:x:0:0:root:/root:/bin/bash\nbin:x:2:2::/bin:\n", "no decision request in it (2 lines, none a JSON object)"),
], ids=["bytes", "deep", "duplicate", "nul", "surrogate", "exponent", "not_events"])
def test_an_events_file_is_read_as_strictly_as_a_request_body(tmp_path, monkeypatch, capsys, content, says):
    """Each line as the API reads a body (engine/inputs.py): one line naming the file, the line
    and what is wrong, exit 1, never a traceback; a file with no request in it is not taken as none."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)
    with pytest.raises(EventsError, match=re.escape(says)):
        list(read_events(path))
    monkeypatch.chdir(ROOT)
    assert main(["diff", "policies", "policies", "--events", str(path)]) == 1
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_empty_events_file_is_no_events(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("")
    assert list(read_events(path)) == []


def test_tools_diff_reads_a_decision_log_mixed_with_the_servers_own_lines(tmp_path):
    """TARIFF_DECISION_LOG=stdout under gunicorn: its log lines sit between the decisions."""
    request = {"plan": "enterprise_self_serve", "as_of": "2026-04-10", "event": {"type": "usage_precheck"}}
    path = tmp_path / "stdout.log"
    path.write_text("[2026-04-10 10:00:00 +0000] [1] [INFO] Starting gunicorn 27.0.1\n"
                    + json.dumps({"decision_id": "d", "time": "t", "policy_version": "v", "input": request,
                                  "result": {}}) + "\n"
                    "127.0.0.1 - - [10/Apr/2026:10:00:01 +0000] \"POST /v1/decisions HTTP/1.1\" 200 512\n")
    assert list(read_events(path)) == [request]


def test_tools_diff_replays_the_api_decision_log(tmp_path, changed_policies):
    """The API's decision log is a recorded event stream: each line's input replays."""
    from tariff.api import create_app
    log = tmp_path / "decisions.jsonl"
    app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": "", "STATE_DIR": str(tmp_path / "s"),
                      "DECISION_LOG": str(log), "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}"})
    client = app.test_client()
    for event in EVENTS[:-1]:  # the malformed one is an input error: not a decision, not logged
        assert client.post("/v1/decisions", json=event).status_code == 200
    assert len(log.read_text().splitlines()) == len(EVENTS) - 1
    report = replay(load_policy_set(ROOT / "policies"), load_policy_set(changed_policies), read_events(log))
    assert {key: group.delta for key, group in report.groups.items()} == EXPECTED
    assert report.totals.delta == Decimal("0.83333325")
