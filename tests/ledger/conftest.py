"""Fixtures for the ledger tests: a fresh database per test, on SQLite always
and on PostgreSQL when TARIFF_TEST_DATABASE_URL is set (each test gets its
own schema, dropped afterwards).

With TARIFF_REQUIRE_POSTGRES=1 (set by .ci/run) a skipped PostgreSQL test
fails the session: CI must never pass without having run them.
"""
from __future__ import annotations

import os
import secrets
import shutil
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

from tariff.engine import Evaluator, load_policy_set
from tariff.storage import Database, Ledger, check_ledger, migrate
from tariff.storage.models import Base

PG_ENV = "TARIFF_TEST_DATABASE_URL"
REQUIRE_ENV = "TARIFF_REQUIRE_POSTGRES"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# -- the CI guard ---------------------------------------------------------

_skipped_postgres: list[str] = []
_ran_postgres: list[str] = []


def pytest_runtest_logreport(report):
    if "postgres" not in report.keywords:
        return
    if report.skipped:
        _skipped_postgres.append(report.nodeid)
    elif report.when == "call":
        _ran_postgres.append(report.nodeid)


def _postgres_shortfall() -> str | None:
    if os.environ.get(REQUIRE_ENV) != "1":
        return None
    if _skipped_postgres:
        return (f"{REQUIRE_ENV}=1 but {len(_skipped_postgres)} PostgreSQL test(s) were skipped, e.g. "
                f"{_skipped_postgres[0]} (is {PG_ENV} set and the server up?)")
    if not _ran_postgres:
        return f"{REQUIRE_ENV}=1 but no PostgreSQL test ran"
    return None


def pytest_sessionfinish(session, exitstatus):
    if _postgres_shortfall():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    message = _postgres_shortfall()
    if message:
        terminalreporter.write_sep("=", "PostgreSQL tests required", red=True, bold=True)
        terminalreporter.write_line(f"FAILED: {message}", red=True, bold=True)


# -- databases --------------------------------------------------------------

def postgres_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    return url


def with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


class PostgresSchema:
    """A schema of its own in the test database, dropped on close."""

    def __init__(self):
        import sqlalchemy
        self.base = postgres_base_url()
        self.name = f"tariff_test_{secrets.token_hex(6)}"
        self.admin = sqlalchemy.create_engine(self.base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{self.name}"')
        self.url = with_search_path(self.base, self.name)

    def emptied(self) -> str:
        """Every table of the (migrated) schema emptied; answers its URL."""
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with self.admin.connect() as c:
            c.exec_driver_sql(f'SET search_path TO "{self.name}"')
            c.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return self.url

    def close(self):
        with self.admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self.admin.dispose()


@pytest.fixture
def backend(request):
    """"sqlite" or "postgres": every test that needs a database runs on both."""
    return getattr(request, "param", "sqlite")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and not any(
            m.name == "parametrize" and "backend" in m.args[0] for m in metafunc.definition.iter_markers()):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def database_url(backend, tmp_path):
    """An empty database, never migrated (for the migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "ledger.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema():
    """One migrated schema for the session; each test starts from empty tables."""
    schema = PostgresSchema()
    migrate(schema.url)
    yield schema
    schema.close()


@pytest.fixture
def migrated_url(request, backend, tmp_path):
    """A migrated database with no data: a copy of the SQLite template, or the
    session's PostgreSQL schema with every table emptied."""
    if backend == "sqlite":
        path = tmp_path / "ledger.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_schema").emptied()


@pytest.fixture
def database(migrated_url):
    db = Database(migrated_url)
    yield db
    db.dispose()


# -- the engine and the ledger ----------------------------------------------

@pytest.fixture(scope="session")
def evaluator():
    return Evaluator(load_policy_set(str(REPO_ROOT / "policies")))


class Clock:
    """A settable clock: ``clock.set(2026, 4, 10)``."""

    def __init__(self, when: datetime):
        self.when = when

    def __call__(self) -> datetime:
        return self.when

    def set(self, *args) -> None:
        self.when = datetime(*args, 12, tzinfo=timezone.utc) if len(args) == 3 else datetime(*args,
                                                                                              tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 4, 10, 12, tzinfo=timezone.utc))


@pytest.fixture
def ledger(database, evaluator, clock):
    yield Ledger(database, evaluator, clock=clock)
    assert check_ledger(database) == [], "totals kept beside the ledger differ from the ledger"


# -- helpers ------------------------------------------------------------------

def make_org(ledger, org_id="acme", plan="enterprise_self_serve", seats=None, term_start=date(2026, 1, 1),
             members=("ana", "ben"), **kwargs) -> dict:
    plan_obj = ledger.policy.plans[plan]
    seat_type = next(iter(plan_obj.seat_types))
    if seats is None:
        seats = {seat_type: 1 + len(members)}
    owner_seat = kwargs.pop("owner_seat_type", None)
    org = ledger.create_organization(id=org_id, name=org_id.title(), plan=plan, term_start=term_start, seats=seats,
                                     primary_owner={"id": "pat", **({"seat_type": owner_seat} if owner_seat else {})},
                                     **kwargs)
    for member in members:
        if isinstance(member, tuple):
            member_id, member_seat = member
            ledger.add_member(org_id, actor="pat", id=member_id, seat_type=member_seat)
        else:
            ledger.add_member(org_id, actor="pat", id=member)
    return org


@pytest.fixture
def app(migrated_url, tmp_path):
    """The HTTP service over this test's ledger database: the shipped policies,
    no fixtures gate, no decision log."""
    from tariff.api import create_app
    return create_app({"POLICIES_DIR": str(REPO_ROOT / "policies"), "FIXTURES_DIR": "", "DECISION_LOG": "off",
                       "STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": migrated_url})


@pytest.fixture
def client(app):
    """A Flask test client of ``app``."""
    return app.test_client()


@pytest.fixture
def new_org(ledger):
    def factory(*args, **kwargs):
        return make_org(ledger, *args, **kwargs)
    return factory


@pytest.fixture
def poison_refused(database):
    """PostgreSQL refuses (a trigger) every usage row keyed 'poison': a write that fails on
    the server, inside a pipeline. Gives a check that the pool's connection came back
    usable: out of pipeline mode, no transaction open."""
    import psycopg
    with database.engine.begin() as c:
        c.exec_driver_sql("CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                          "IF NEW.idempotency_key = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; "
                          "RETURN NEW; END $$")
        c.exec_driver_sql("CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records "
                          "FOR EACH ROW EXECUTE FUNCTION refuse_poison()")

    def connection_is_free() -> bool:
        raw = database.engine.raw_connection()
        try:
            return raw.driver_connection.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF \
                and raw.driver_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        finally:
            raw.close()
    try:
        yield connection_is_free
    finally:
        with database.engine.begin() as c:  # two transactions: Citus takes no DROP FUNCTION after a
            c.exec_driver_sql("DROP TRIGGER refuse_poison ON usage_records")  # change of every shard
        with database.engine.begin() as c:
            c.exec_driver_sql("DROP FUNCTION refuse_poison()")


@pytest.fixture
def start_server(migrated_url, tmp_path):
    """Starts the real server (tests/servers.py's Server: `tariff serve`) over this test's
    database: ``start_server(workers=2)``, as often as the test needs (a second server, a
    restart after a kill); those still running are stopped when the test ends."""
    from servers import Server  # tests/servers.py: tests/ is on sys.path for tests/conftest.py
    started = []

    def start(workers: int = 2) -> Server:
        server = Server(migrated_url, tmp_path, workers=workers)
        started.append(server)
        return server
    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()
