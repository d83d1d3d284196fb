"""Sharding readiness (issue 10 item 6, docs/scaling.md): the organization is
the distribution key. Reads the SQLAlchemy metadata and the statements the
usage path issues, and fails where that breaks:

- every ledger table carries ``org_pk`` (the few shared tables aside: they
  would be Citus reference tables);
- every primary key and unique constraint of a ledger table includes it;
- every foreign key from one ledger table to another is ``(org_pk, ...)`` to
  ``(org_pk, pk)``: a row points only at its own organization's rows, on one
  shard (Citus refuses the key otherwise);
- every statement of the usage path (record, batch, authorize, void), and of
  an organization's other operations (members, seats, limits, credits, lists,
  billing), that touches a ledger table names the organization (``org_pk``,
  or the organization's row by pk), so each runs on one shard;
- every join between two ledger tables matches their organizations too:
  Citus joins co-located shards only on the distribution column.

Checked on a single-node Citus 13.0.5 as well (docs/scaling.md), by hand:
Citus is not on this machine's package registries.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from decimal import Decimal

import pytest

from sqlalchemy import UniqueConstraint, event

from tariff.storage.models import Base

# Shared by every organization: Citus reference tables (a webhook endpoint may serve every
# organization; shared_answers are the kept answers of operations of none; organization_ids
# keeps the organizations' ids unique).
REFERENCE = {"keys", "service_secrets", "webhook_endpoints", "shared_answers", "organization_ids"}
# The root: its own pk is the distribution key (org_pk everywhere else).
ROOT = "organizations"


def ledger_tables():
    return [t for t in Base.metadata.sorted_tables if t.name not in REFERENCE | {ROOT}]


def test_every_ledger_table_carries_the_organization():
    missing = {t.name for t in ledger_tables() if "org_pk" not in t.c}
    assert missing == set()


def test_every_key_includes_the_organization():
    gaps = set()
    for table in ledger_tables():
        if "org_pk" not in table.primary_key.columns:
            gaps.add((table.name, "pk"))
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and "org_pk" not in constraint.columns:
                gaps.add((table.name, "unique " + ", ".join(c.name for c in constraint.columns)))
        for index in table.indexes:
            if index.unique and "org_pk" not in index.columns:
                gaps.add((table.name, "unique index " + ", ".join(c.name for c in index.columns)))
    assert gaps == set()


def test_the_root_is_unique_only_by_its_pk():
    """organizations is distributed by pk: its ids are unique in organization_ids."""
    root = Base.metadata.tables[ROOT]
    assert list(root.primary_key.columns.keys()) == ["pk"]
    assert [c for c in root.constraints if isinstance(c, UniqueConstraint)] == []
    assert [i.name for i in root.indexes if i.unique] == []
    assert Base.metadata.tables["organization_ids"].primary_key.columns.keys() == ["id"]


def test_every_key_between_ledger_tables_stays_within_the_organization():
    distributed = {t.name for t in ledger_tables()}
    crossing = set()
    for table in ledger_tables():
        for key in table.foreign_key_constraints:
            if key.referred_table.name not in distributed:
                continue  # to the root (organizations.pk is org_pk) or to a shared table
            pairs = {(fk.parent.name, fk.column.name) for fk in key.elements}
            if ("org_pk", "org_pk") not in pairs:
                crossing.add((table.name, key.name))
    assert crossing == set()
    assert len([k for t in ledger_tables() for k in t.foreign_key_constraints
                if k.referred_table.name in distributed]) == 14  # the check saw the keys it is about


def test_shared_tables_point_at_no_organization_table():
    """Citus refuses a foreign key from a reference table to a distributed one."""
    pointing = {(table.name, fk.column.table.name) for name in REFERENCE
                for table in [Base.metadata.tables[name]] for fk in table.foreign_keys
                if fk.column.table.name not in REFERENCE}
    assert pointing == set()


@contextmanager
def statements(database):
    """The SQL statements sent to ``database`` in the block, as the driver got them."""
    seen: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(database.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", keep)


TABLE = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)


def test_every_statement_of_the_usage_path_names_the_organization(ledger, new_org, database):
    new_org("acme", members=("ana", "ben"))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("6"))
    with statements(database) as seen:
        kept = ledger.record_usage("acme", idempotency_key="one", member="ana", product="chat",
                                   model="claude-opus-4-6", tokens={"input": 1_000_000})
        ledger.record_usage_batch([{"organization": "acme", "idempotency_key": f"b{i}", "member": m,
                                    "product": "chat", "model": "claude-opus-4-6", "tokens": {"input": 500_000}}
                                   for i, m in enumerate(("ana", "ben", "ana", "ana"))])
        ledger.authorize_usage("acme", member="ben", product="chat")
        ledger.void_usage("acme", kept.usage["id"], idempotency_key="v")
    checked = [s for s in seen if _ledger_tables_of(s)]
    assert len(checked) >= 10
    assert [s for s in checked if not _names_the_organization(s, database.dialect)] == []


def _ledger_tables_of(statement: str) -> set[str]:
    return {t.lower() for t in TABLE.findall(statement)} - REFERENCE - {"generate_series"}


def _names_the_organization(statement: str, dialect: str) -> bool:
    """Whether a statement on ledger tables runs on one organization's shard: it names
    ``org_pk``, or the root's row by pk (Citus routes a locking read to one shard only by
    the distribution column), or inserts the root's row."""
    text = statement.lower()
    if dialect == "sqlite" and text.startswith("select max(usage_records.pk)"):
        return True  # ids taken under SQLite's write lock (lean.new_pks): one node, never sharded
    if _ledger_tables_of(statement) == {ROOT}:
        return "organizations.pk =" in text or text.startswith("insert into organizations ")
    return "org_pk" in text


def test_every_statement_of_an_organizations_own_operations_names_it(ledger, new_org, database, clock):
    """Beyond the usage path: members, seats, limits, credits, top-ups, the lists, the
    audit trail, voids, billing and invoices of one organization each run on its shard
    (what runs over every organization, such as the staff's list or a billing run of all,
    is not here)."""
    from datetime import date

    from tariff.storage import audit
    new_org("acme", plan="enterprise_sales_assisted", members=("ana", "ben"))
    new_org("solo", members=("sam",))
    with statements(database) as seen:
        ledger.add_seats("acme", actor="pat", count=2)
        ledger.add_member("acme", actor="pat", id="cy")
        ledger.change_member("acme", "cy", actor="pat", role="admin")
        ledger.get_member("acme", "cy"), ledger.list_members("acme"), ledger.list_seat_changes("acme")
        ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("6"))
        ledger.list_limits("acme")
        ledger.purchase_credits("solo", actor="pat", amount=Decimal("100"))
        ledger.set_auto_top_up("solo", actor="pat", below=Decimal("5"), amount=Decimal("20"),
                               monthly_cap=Decimal("50"))
        ledger.get_auto_top_up("solo"), ledger.end_auto_top_up("solo", actor="pat")
        kept = ledger.record_usage("acme", idempotency_key="k", member="ana", product="chat",
                                   model="claude-opus-4-6", tokens={"input": 1_000_000})
        ledger.void_usage("acme", kept.usage["id"])
        ledger.list_usage("acme"), ledger.list_notifications("acme"), ledger.list_credit_entries("solo")
        audit.page(ledger.books, "acme"), ledger.usage_summary("acme")
        ledger.get_organization("acme"), ledger.update_organization("acme", actor="pat", name="Acme Two")
        ledger.remove_member("acme", "cy", actor="pat")
        ledger.transfer_primary_owner("acme", actor="pat", to="ana")
        clock.set(2026, 5, 1)
        assert ledger.run_billing("acme", date(2026, 5, 1))["invoices"]
        ledger.get_invoice("acme", date(2026, 4, 1)), ledger.list_invoices("acme")
    checked = [s for s in seen if _ledger_tables_of(s)]
    assert len(checked) >= 100
    assert [s for s in checked if not _names_the_organization(s, database.dialect)] == []


def test_an_organization_is_found_by_its_pk_in_organization_ids_even_past_a_stale_one(ledger, new_org, database):
    """Ids are unique in organization_ids; lookups read the pk there (kept per process),
    then the row by pk and id. A kept pk that names another organization (as one kept
    from a transaction rolled back would) is found out and read again."""
    from datetime import date

    from sqlalchemy import text

    from tariff.storage import Conflict, lean, repository
    new_org("acme", members=("ana",))
    new_org("beta", members=("bob",))
    with database.read() as session:
        ids = dict(session.execute(text("SELECT id, org_pk FROM organization_ids")).all())
        pks = dict(session.execute(text("SELECT id, pk FROM organizations")).all())
    assert ids == pks and set(ids) == {"acme", "beta"}
    with pytest.raises(Conflict) as refused:
        ledger.create_organization(id="acme", name="again", plan="enterprise_sales_assisted",
                                   term_start=date(2026, 1, 1), seats={"enterprise": 1}, primary_owner={"id": "pat"})
    assert refused.value.code == "organization_exists"
    def stale(org_id: str) -> None:  # in every engine's (reads may have their own)
        for kept in list(repository._PKS.values()):
            kept[org_id] = pks["beta"]

    stale("acme")
    assert ledger.get_organization("acme")["id"] == "acme"
    stale("acme")
    with database.write() as session:
        assert lean.org_row(session.connection(), "acme", lock=True).pk == pks["acme"]
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("10"))
    stale("acme")
    out = ledger.record_usage("acme", idempotency_key="k", member="ana", product="chat", model="claude-opus-4-6",
                              tokens={"input": 1000})
    assert out.recorded and out.usage["member"] == "ana"
    stale("acme")
    batch = ledger.record_usage_batch([{"organization": "acme", "idempotency_key": f"b{i}", "member": "ana",
                                        "product": "chat", "model": "claude-opus-4-6", "tokens": {"input": 1000}}
                                       for i in range(150)])  # past STREAM_EVERY: the held pipeline
    assert [r.status for r in batch] == ["recorded"] * 150
    stale("acme")
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("50"))  # lock_org, through the ORM
    assert [(limit["level"], limit["limit"]) for limit in ledger.list_limits("acme")] == [("organization", "50")]
    stale("ghost")  # an id that names nothing, with a pk that does
    with database.write() as session:
        conn = session.connection()
        assert lean.org_row(conn, "ghost", lock=False) is None
        assert "ghost" not in repository._PKS[conn.engine] and repository._PKS[conn.engine]["acme"] == pks["acme"]


def test_check_ledger_finds_an_id_that_names_the_wrong_organization(ledger, new_org, database):
    from sqlalchemy import text

    from tariff.storage import check_ledger
    new_org("acme", members=())
    new_org("beta", members=())
    assert check_ledger(database) == []

    def run(*statements: str) -> None:
        with database.write() as session:
            for statement in statements:
                session.execute(text(statement))
    with database.read() as session:
        pks = dict(session.execute(text("SELECT id, pk FROM organizations")).all())
    run("DELETE FROM organization_ids WHERE id = 'beta'",
        f"UPDATE organization_ids SET org_pk = {pks['beta']} WHERE id = 'acme'")
    assert check_ledger(database) == [f"acme: organization_ids says pk {pks['beta']}, organizations {pks['acme']}",
                                      f"beta: organization_ids says pk None, organizations {pks['beta']}"]
    run(f"UPDATE organization_ids SET org_pk = {pks['acme']} WHERE id = 'acme'",
        f"INSERT INTO organization_ids (id, org_pk) VALUES ('beta', {pks['beta']})",
        "UPDATE organizations SET id = 'acme' WHERE id = 'beta'")
    assert check_ledger(database)[0] == "acme: 2 organizations have this id"
    run("UPDATE organizations SET id = 'beta' WHERE pk = %d" % pks["beta"])
    assert check_ledger(database) == []


# ``a.<x>_pk = b.pk``: a row of one table matched to a row of another by key, in a JOIN's ON or
# a correlated subquery's WHERE, as SQLAlchemy renders it (table-qualified, spaces around =).
KEY_MATCH = re.compile(r"\b(\w+)\.(\w*pk) = (\w+)\.(\w*pk)\b")


def _unpaired_key_matches(statement: str) -> set[str]:
    """Matches by key between two distributed tables that do not also match their
    organizations (``a.org_pk = b.org_pk``): Citus joins co-located shards only on the
    distribution column, and refuses the rest ("requires repartitioning")."""
    found = set()
    for left, left_column, right, right_column in KEY_MATCH.findall(statement):
        if left == right or {left, right} & REFERENCE or "org_pk" in (left_column, right_column):
            continue  # within one table, with a shared table, or on the distribution column itself
        if not re.search(rf"\b{left}\.org_pk = {right}\.org_pk\b|\b{right}\.org_pk = {left}\.org_pk\b", statement):
            found.add(f"{left}.{left_column} = {right}.{right_column}")
    return found


def test_a_key_match_between_ledger_tables_also_matches_the_organization():
    assert _unpaired_key_matches("SELECT 1 FROM usage_records JOIN members ON members.pk = usage_records.member_pk") \
        == {"members.pk = usage_records.member_pk"}
    assert not _unpaired_key_matches("SELECT 1 FROM usage_records JOIN members ON members.org_pk = "
                                     "usage_records.org_pk AND members.pk = usage_records.member_pk")
    assert not _unpaired_key_matches("SELECT 1 FROM webhook_deliveries JOIN webhook_endpoints ON "
                                     "webhook_endpoints.pk = webhook_deliveries.endpoint_pk")  # a shared table


def test_every_join_between_ledger_tables_is_within_the_organization(ledger, new_org, database, clock):
    """The reads that join tables (pages of usage, notifications, credits, the audit trail,
    webhook deliveries; the summary; check_ledger) join on the organization too."""
    from datetime import timedelta

    from tariff.storage import audit, check_ledger, webhooks
    from tariff.storage.webhooks import Dispatcher, Settings
    from tariff.storage.webhooks.dispatch import Outcome
    new_org("acme", members=("ana", "ben"))
    endpoint = webhooks.create(ledger.books, url="http://127.0.0.1:9/hook", secret="s" * 32)
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("6"))
    with statements(database) as seen:
        for i in range(2):  # past 50% of ana's limit: a notification, events for the endpoint
            ledger.record_usage("acme", idempotency_key=f"k{i}", member="ana", product="chat",
                                model="claude-opus-4-6", tokens={"input": 1_000_000})
        assert ledger.list_usage("acme")["items"] and ledger.list_notifications("acme")["items"]
        assert ledger.list_credit_entries("acme")["items"] and audit.page(ledger.books, "acme")["items"]
        ledger.usage_summary("acme")
        deliveries = webhooks.deliveries(ledger.books, endpoint["id"])["items"]
        assert deliveries
        webhooks.retry(ledger.books, endpoint["id"], deliveries[0]["id"])
        dispatcher = Dispatcher(database, Settings(retention_s=3600), clock=lambda: clock() + timedelta(hours=2))
        for claimed in dispatcher.claim():
            dispatcher.record(claimed, Outcome(True, 200))
        assert dispatcher.prune() > 0
        assert check_ledger(database) == [] and check_ledger(database, "acme") == []
    matching = [s for s in seen if KEY_MATCH.search(s)]
    assert len(matching) >= 8  # the reads above joined tables
    assert {m for s in matching for m in _unpaired_key_matches(s)} == set()


def test_the_commands_in_docs_scaling_distribute_every_table_as_the_test_expects():
    """docs/scaling.md's SQL (run on Citus 13 as written) names every table: the shared ones
    as reference tables, the root by pk, every other by org_pk, co-located."""
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scaling.md").read_text()
    block = re.search(r"```sql\n(.*?)```", doc[doc.index("## Distributed by organization"):], re.S).group(1)
    reference = set(re.findall(r"create_reference_table\('(\w+)'\)", block))
    root = re.findall(r"create_distributed_table\('(\w+)', 'pk'\)", block)
    by_org = set(re.findall(r"'(\w+)'", block[block.index("unnest(ARRAY["):]))
    assert "SET citus.enable_local_reference_table_foreign_keys = off;" in block
    assert reference == REFERENCE and root == [ROOT]
    assert by_org == {t.name for t in ledger_tables()}
    assert "colocate_with => 'organizations'" in block
    assert set(Base.metadata.tables) == reference | {ROOT} | by_org
