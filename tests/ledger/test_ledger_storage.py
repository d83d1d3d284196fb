"""The storage layer itself: migrations, exact money columns, configuration."""
from __future__ import annotations

from pathlib import Path

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, text

from tariff.storage import Database, MigrationRefused, database_url as default_url, head_revision, migrate
from tariff.storage.models import Base, Organization
from tariff.storage.schema import current_revision, made_on

REPO_ROOT = Path(__file__).resolve().parents[2]  # not from conftest: its module name is shared



def test_migrate_creates_every_table_and_is_idempotent(database_url):
    assert migrate(database_url) == head_revision()
    assert migrate(database_url) == head_revision()  # a second start finds the schema at head
    db = Database(database_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()


def test_the_migrations_match_the_models(database):
    """Autogenerate finds nothing to do: the shipped migration is the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": made_on(connection.dialect.name)})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_keys_by_organization_up_and_down_with_data(database_url, evaluator, clock):
    """Migrations 0013 to 0017 on a ledger with invoices and webhook deliveries (tables
    SQLite copies while others point at them): each invoice line gets its invoice's
    org_pk; taken back to 0012 and up again, every row is the same (docs/scaling.md)."""
    from datetime import date

    from tariff.storage import Ledger, downgrade, webhooks
    migrate(database_url)
    db = Database(database_url)
    try:
        ledger = Ledger(db, evaluator, clock=clock)
        for org in ("acme", "beta"):
            ledger.create_organization(id=org, name=org, plan="enterprise_sales_assisted", term_start=date(2026, 1, 1),
                                       seats={"enterprise": 2}, primary_owner={"id": "pat"})
            ledger.run_billing(org, date(2026, 4, 1))
        webhooks.create(ledger.books, url="http://127.0.0.1:9/hook", secret="whsec_0123456789abcdef",
                        organization="acme")
        ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
        ledger.record_usage("acme", idempotency_key="a", member="pat", product="chat", model="claude-opus-4-6",
                            tokens={"input": 1_000_000})  # half the limit: a notification, delivered to the endpoint

        def rows():
            with db.engine.connect() as c:
                lines = sorted(c.execute(text(
                    "SELECT organizations.id, invoice_lines.org_pk, invoices.org_pk, invoices.number "
                    "FROM invoice_lines JOIN invoices ON invoices.pk = invoice_lines.invoice_pk "
                    "JOIN organizations ON organizations.pk = invoices.org_pk")).all())
                deliveries = c.execute(text(
                    "SELECT webhook_endpoints.id, webhook_events.id, webhook_deliveries.org_pk FROM webhook_deliveries "
                    "JOIN webhook_endpoints ON webhook_endpoints.pk = webhook_deliveries.endpoint_pk "
                    "JOIN webhook_events ON webhook_events.pk = webhook_deliveries.event_pk")).all()
                return lines, deliveries
        before = rows()
        lines, deliveries = before
        assert {row[0] for row in lines} == {"acme", "beta"} and all(row[1] == row[2] for row in lines)
        assert len(deliveries) == 1
        assert downgrade(db, "0012") == "0012"
        db.dispose()  # SQLite: pooled connections keep the old table definitions
        assert "org_pk" not in {c["name"] for c in inspect(db.engine).get_columns("invoice_lines")}
        assert migrate(db) == head_revision()
        assert rows() == before
        with db.engine.connect() as c:  # 0017 made organization_ids from the organizations
            assert sorted(c.execute(text("SELECT id, org_pk FROM organization_ids")).all()) == \
                sorted(c.execute(text("SELECT id, pk FROM organizations")).all())
            assert len(c.execute(text("SELECT id FROM organization_ids")).all()) == 2
    finally:
        db.dispose()


def test_kept_answers_move_by_organization_and_replay_across_0016(database_url, evaluator, clock):
    """0016: an organization's kept answers carry its org_pk, those of no organization
    (creating one, "#keys") move to shared_answers with their scope; taken back to 0015
    and up again, the rows are the same and every retry still replays its first answer."""
    from datetime import date

    from tariff.storage import Ledger, downgrade, keys
    migrate(database_url)
    db = Database(database_url)
    try:
        ledger = Ledger(db, evaluator, clock=clock)

        def requests():  # the same key in each organization, and in the shared scopes
            made = [ledger.create_organization(id=org, name=org, plan="enterprise_sales_assisted",
                                               term_start=date(2026, 1, 1), seats={"enterprise": 2},
                                               primary_owner={"id": "pat"}, idempotency_key=f"make-{org}")
                    for org in ("acme", "beta")]
            limits = [ledger.set_limit(org, actor="pat", level="organization", limit=Decimal("10"),
                                       idempotency_key="lim") for org in ("acme", "beta")]
            return [dict(answer) for answer in made] + [(limit.answer, limit.replayed) for limit in limits]
        first = requests()
        assert [replayed for _, replayed in first[2:]] == [False, False]
        key, _ = keys.create(db, "service", organization="acme", name="svc", idempotency_key="lim")

        def kept():
            with db.engine.connect() as c:
                by_org = c.execute(text(
                    "SELECT organizations.id, a.idempotency_key, a.operation, a.answer FROM idempotent_answers a "
                    "JOIN organizations ON organizations.pk = a.org_pk ORDER BY 1, 2")).all()
                shared = c.execute(text("SELECT scope, idempotency_key, operation, answer FROM shared_answers "
                                        "ORDER BY 1, 2")).all()
            return by_org, shared
        before = kept()
        assert [(org, k, op) for org, k, op, _ in before[0]] == [("acme", "lim", "limits.set"),
                                                                 ("beta", "lim", "limits.set")]
        assert [(scope, k, op) for scope, k, op, _ in before[1]] == [
            ("", "make-acme", "organizations.create"), ("", "make-beta", "organizations.create"),
            ("#keys", "lim", "keys.create")]
        assert downgrade(db, "0015") == "0015"
        db.dispose()
        with db.engine.connect() as c:
            scopes = c.execute(text("SELECT scope, idempotency_key FROM idempotent_answers ORDER BY 1, 2")).all()
        assert scopes == [("", "make-acme"), ("", "make-beta"), ("#keys", "lim"), ("acme", "lim"), ("beta", "lim")]
        assert migrate(db) == head_revision()
        db.dispose()
        assert kept() == before
        again = requests()
        assert again[:2] == first[:2] and again[2:] == [(answer, True) for answer, _ in first[2:]]
        assert keys.create(db, "service", organization="acme", name="svc", idempotency_key="lim")[0] == key
    finally:
        db.dispose()


def test_a_sqlite_migration_that_leaves_rows_pointing_at_nothing_is_rolled_back(tmp_path):
    """Foreign keys are off while SQLite copies tables: the check before the commit
    refuses a schema with rows pointing at nothing, and the schema stays as it was."""
    import sqlite3

    from tariff.storage import current
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    assert migrate(url, "0012") == "0012"
    raw = sqlite3.connect(tmp_path / "ledger.sqlite3")  # foreign keys off: SQLite's default
    raw.execute("INSERT INTO seat_counts (org_pk, seat_type, count) VALUES (999, 'enterprise', 1)")
    raw.commit()
    raw.close()
    with pytest.raises(MigrationRefused, match="rows its foreign keys refuse.*seat_counts"):
        migrate(url)
    assert current(url) == "0012"


def test_a_row_pointing_at_another_organizations_row_stops_migration_0015(database_url):
    """0015 makes every key between an organization's tables name the organization: a row
    pointing at another organization's member is refused, on both databases, naming the key
    (PostgreSQL) or the table (SQLite), and the schema stays at 0014."""
    from tariff.storage import current
    assert migrate(database_url, "0014") == "0014"
    db = Database(database_url)
    try:
        with db.engine.begin() as c:
            for pk, org in ((1, "acme"), (2, "beta")):
                c.execute(text("INSERT INTO organizations (pk, id, name, plan, channel, term_start, renewal_date, "
                               "hipaa_seats, extra_usage, credit_balance, created_at, updated_at) VALUES "
                               "(:pk, :id, :id, 'p', 'c', '2026-01-01', '2027-01-01', 0, false, 0, "
                               "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"), {"pk": pk, "id": org})
                c.execute(text("INSERT INTO members (pk, org_pk, id, role, seat_type, created_at, updated_at) VALUES "
                               "(:pk, :pk, 'pat', 'primary_owner', 'enterprise', '2026-01-01 00:00:00+00:00', "
                               "'2026-01-01 00:00:00+00:00')"), {"pk": pk})
            # acme's audit entry naming beta's member as its actor: a key 0014 allows
            c.execute(text("INSERT INTO events (org_pk, kind, actor_pk, as_of, outcome, decision, created_at) VALUES "
                           "(1, 'limit_change', 2, '2026-01-02', 'allow', '{}', '2026-01-02 00:00:00+00:00')"))
    finally:
        db.dispose()
    with pytest.raises(MigrationRefused, match="fk_events_actor_pk_members|events"):
        migrate(database_url)
    assert current(database_url) == "0014"


def test_several_processes_migrating_at_once_agree(database_url):
    """Every gunicorn worker migrates at start-up; they must not trip over each other."""
    code = "import sys; from storage import migrate; print(migrate(sys.argv[1]))"
    procs = [subprocess.Popen([sys.executable, "-c", code, database_url], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert {out.strip() for out, _ in results} == {head_revision()}


def test_sqlite_stores_money_as_exact_integers(tmp_path):
    url = f"sqlite:///{tmp_path / 'money.sqlite3'}"
    migrate(url)
    db = Database(url)
    amounts = [Decimal("0.000000001"), Decimal("0.1"), Decimal("123456789.123456789"), Decimal("-5.5")]
    try:
        from datetime import date, datetime, timezone
        now = datetime.now(timezone.utc)
        with db.write() as s:
            for i, amount in enumerate(amounts):
                s.add(Organization(id=f"o{i}", name="x", plan="p", channel="c", term_start=date(2026, 1, 1),
                                   renewal_date=date(2027, 1, 1), credit_balance=amount, created_at=now,
                                   updated_at=now))
        with db.read() as s:
            raw = s.execute(text("SELECT typeof(credit_balance), credit_balance FROM organizations ORDER BY pk")).all()
            assert [t for t, _ in raw] == ["integer"] * 4
            assert [v for _, v in raw] == [1, 100_000_000, 123456789123456789, -5_500_000_000]
            back = s.execute(select(Organization.credit_balance).order_by(Organization.pk)).scalars().all()
            assert back == amounts
            total = s.execute(select(text("SUM(credit_balance)")).select_from(Organization)).scalar()
            assert total == int(sum(amounts) * 10**9) == 123456783723456790  # integer nano-dollars: exact
    finally:
        db.dispose()


@pytest.mark.parametrize("bad, error", [(0.1, TypeError), (Decimal("0.0000000001"), ValueError)])
def test_money_refuses_floats_and_sub_nano_amounts(database, bad, error):
    from datetime import date, datetime, timezone
    now = datetime.now(timezone.utc)
    with pytest.raises(Exception) as caught:
        with database.write() as s:
            s.add(Organization(id="bad", name="x", plan="p", channel="c", term_start=date(2026, 1, 1),
                               renewal_date=date(2027, 1, 1), credit_balance=bad, created_at=now, updated_at=now))
    assert isinstance(caught.value, error) or isinstance(getattr(caught.value, "orig", None), error)


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_money_columns_are_numeric(database):
    with database.read() as s:
        kind = s.execute(text("SELECT data_type, numeric_scale FROM information_schema.columns "
                              "WHERE table_name = 'usage_records' AND column_name = 'billed' "
                              "AND table_schema = current_schema()")).one()
    assert tuple(kind) == ("numeric", 9)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        db.dispose()


def test_database_url_defaults_to_a_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TARIFF_DATABASE_URL", raising=False)
    assert default_url(tmp_path / "inst") == f"sqlite:///{tmp_path / 'inst' / 'tariff.sqlite3'}"
    assert (tmp_path / "inst").is_dir()
    monkeypatch.setenv("TARIFF_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert default_url(tmp_path) == "postgresql+psycopg://u@h/db"


def test_a_locked_sqlite_database_is_busy_not_a_driver_error(tmp_path, monkeypatch):
    """Another writer holding the lock past the busy timeout: DatabaseBusy
    (503 database_busy over HTTP), never sqlite3's own error."""
    import sqlite3

    from tariff.storage import DatabaseBusy
    from tariff.storage import db as storage_db
    path = tmp_path / "locked.sqlite3"
    migrate(f"sqlite:///{path}")
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 50)
    db = Database(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusy) as busy:
            with db.write() as s:
                s.execute(select(Organization.pk)).all()
        assert busy.value.code == "database_busy" and isinstance(busy.value.__cause__, Exception)
        holder.execute("ROLLBACK")
        with db.write() as s:  # the lock released: the same transaction goes through
            assert s.execute(select(Organization.pk)).all() == []
    finally:
        holder.close()
        db.dispose()


def test_other_operational_failures_are_unavailable(tmp_path):
    from tariff.storage import DatabaseBusy, DatabaseUnavailable
    db = Database(f"sqlite:///{tmp_path / 'never_migrated.sqlite3'}")
    try:
        with pytest.raises(DatabaseUnavailable) as failed:  # no such table
            with db.read() as s:
                s.execute(select(Organization.pk)).all()
        assert not isinstance(failed.value, DatabaseBusy) and failed.value.code == "database_unavailable"
    finally:
        db.dispose()


# -- connections the server closed (PostgreSQL) ----------------------------------------

def _backend_pid(database) -> int:
    with database.read() as s:
        return s.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(database, pid: int) -> None:
    """The server closes that connection, as a restart or an idle timeout would."""
    import sqlalchemy
    admin = sqlalchemy.create_engine(database.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:  # waits up to 5 s for the backend to be gone (typed: Citus adds an overload)
            assert c.execute(text("SELECT pg_terminate_backend(CAST(:pid AS integer), CAST(5000 AS bigint))"),
                             {"pid": pid}).scalar()
    finally:
        admin.dispose()


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_pooled_connection_idle_past_the_threshold_is_pinged_and_replaced_when_closed(database, monkeypatch):
    from tariff.storage import db as storage_db
    monkeypatch.setattr(storage_db, "PING_AFTER_IDLE_S", 0.0)  # every connection back from the pool is pinged
    pid = _backend_pid(database)
    _terminate(database, pid)
    assert _backend_pid(database) != pid  # no error: the ping found it closed, the pool connected anew


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_connection_used_a_moment_ago_is_not_pinged_and_its_loss_fails_one_request(database, monkeypatch):
    """No round trip for a ping on a busy connection: if the server closed it meanwhile,
    that request fails as DatabaseUnavailable (503: retry) and the pool starts afresh."""
    from tariff.storage import DatabaseUnavailable
    from tariff.storage import db as storage_db
    monkeypatch.setattr(storage_db, "PING_AFTER_IDLE_S", 3600.0)
    pid = _backend_pid(database)
    _terminate(database, pid)
    with pytest.raises(DatabaseUnavailable):
        _backend_pid(database)
    assert _backend_pid(database) != pid
