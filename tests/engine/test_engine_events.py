"""engine/events.py, the event table: consistent with the facts, the pricing
functions, the state changes and the request schema; and a new event type
is one entry in it plus YAML rules, with no other Python change."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tariff.engine import facts as F
from tariff.engine.evaluate.context import PROVIDERS
from tariff.engine.evaluate.decision import CHANGES
from tariff.engine.evaluate.pricing import PRICES
from tariff.engine.evaluate.request import _EVENT_SCHEMAS, EventSchema
from tariff.engine.events import CHARGES, EVENT_TYPES, EVENTS, STATE_CHANGES
from tariff.engine.vocabulary import LEVELS

ROOT = Path(__file__).resolve().parents[2]


def test_every_fact_the_table_names_is_a_fact_and_every_group_has_its_provider():
    for event in EVENT_TYPES.values():
        if event.facts is None:
            continue
        assert event.facts.name in PROVIDERS, event.name
        for name in event.facts.facts:
            names = [name.format(level=level) for level in LEVELS] if "{level}" in name else [name]
            assert set(names) <= set(F.FIELDS), (event.name, name)
    assert set(PROVIDERS) == {e.facts.name for e in EVENT_TYPES.values() if e.facts}


def test_charges_and_state_changes_are_those_the_engine_makes():
    assert set(PRICES) == set(CHARGES)
    assert set(CHANGES) <= STATE_CHANGES


def test_each_event_type_has_a_schema_of_exactly_its_fields():
    assert list(_EVENT_SCHEMAS) == list(EVENTS)
    for kind, schema in _EVENT_SCHEMAS.items():
        event = EVENT_TYPES[kind]
        assert set(schema.fields) == set(event.fields) | {"type"}
        assert {n for n, f in schema.fields.items() if f.required} == set(event.required) | {"type"}
    documented = {f.data_key or n for n, f in EventSchema().fields.items()}
    assert documented == {"type"} | {name for e in EVENT_TYPES.values() for name in e.fields}


# A new event type (one the table does not have): decided by rules on the acting member's role.
ENTRY = 'EventType("guest_invite", required={"member_id": TEXT}, optional={"role": ROLE}, changes=("invite_guest",)),'
RULES = """\
rules:
  - id: guest_invite_allowed
    cites: [L1]
    on: [guest_invite]
    when:
      role: {in: [primary_owner, owner, admin]}
    then:
      allow: true
      apply: [invite_guest]
  - id: guest_invite_role_not_allowed
    cites: [L1]
    on: [guest_invite]
    when:
      role: member
    then:
      refuse: role_not_allowed
"""
CHILD = textwrap.dedent("""\
    import json, sys
    from tariff.engine import InputError, check_policies
    from tariff.engine.evaluate.request import accept_well_formed
    verdict = check_policies(sys.argv[1])
    out = {"engine": __import__("tariff.engine").engine.__file__, "errors": [str(f) for f in verdict.errors]}
    from tariff.engine import Evaluator
    evaluator = Evaluator(verdict.policy)
    base = {"plan": "enterprise_self_serve", "as_of": "2026-04-10", "organization": {"term_start": "2026-01-01"},
            "event": {"type": "guest_invite", "member_id": "m-new", "role": "admin"}}
    for role in ("owner", "member"):
        decision = evaluator.decide({**base, "member": {"id": "m-1", "role": role}})
        out[role] = {"outcome": decision.outcome, "reasons": decision.reason_codes, "changes": decision.changes}
    out["quick"] = accept_well_formed({**base, "member": {"id": "m-1", "role": "owner"}}) is not None
    try:
        evaluator.decide({**base, "member": {"role": "owner"}, "event": {"type": "guest_invite", "role": "boss"}})
    except InputError as exc:
        out["error"] = sorted(exc.errors)
    print(json.dumps(out))
""")


def test_a_new_event_type_is_one_table_entry_plus_yaml(tmp_path):
    """A copy of the engine with one more entry in events.py (and nothing else
    changed in Python), and a copy of the policies with rules for it: the
    request schema, the quick path, the context, lint and the decision all
    take the new event."""
    package = tmp_path / "src" / "tariff"
    shutil.copytree(ROOT / "engine", package / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text((ROOT / "tariff" / "__init__.py").read_text())
    events = package / "engine" / "events.py"
    text = events.read_text()
    anchor = '    EventType("early_migration"),\n'
    assert text.count(anchor) == 1
    events.write_text(text.replace(anchor, anchor + "    " + ENTRY + "\n"))
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    (policies / "rules" / "guests.yaml").write_text(RULES)
    plan = policies / "plans" / "enterprise_self_serve.yaml"
    plan.write_text(plan.read_text().replace("include:\n", "include:\n  - rules/guests.yaml\n"))

    proc = subprocess.run([sys.executable, "-c", CHILD, str(policies)], capture_output=True, text=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["engine"].startswith(str(package))  # the copy, not the tree
    assert out["errors"] == []
    assert out["owner"] == {"outcome": "allow", "reasons": [],
                            "changes": [{"change": "invite_guest", "member_id": "m-new", "role": "admin"}]}
    assert out["member"]["outcome"] == "refuse" and out["member"]["reasons"] == ["role_not_allowed"]
    assert out["quick"] is True
    assert out["error"] == ["event.member_id", "event.role"]
