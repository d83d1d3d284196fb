"""Engines and transactions, SQLite or PostgreSQL.

Every change to an organization happens in one transaction that holds that
organization's lock from its first read to its commit, so concurrent
requests for one organization run one after another and none is lost:

- PostgreSQL: ``SELECT ... FOR UPDATE`` on the organization's row
  (``repository.lock_org``), READ COMMITTED; requests for different
  organizations run in parallel.
- SQLite: a write transaction starts with ``BEGIN IMMEDIATE``, which takes
  the database's write lock at once (so two transactions never read, then
  both try to write); others wait up to ``busy_timeout``. WAL mode lets
  readers go on meanwhile. ``synchronous=FULL`` by default: a commit is on
  disk before it is acknowledged (``TARIFF_SQLITE_SYNCHRONOUS=NORMAL``: only
  safe against a crash of the server, not of the machine).

A transaction the database cannot run raises ``DatabaseBusy`` (SQLite's busy
timeout ran out, or PostgreSQL broke a deadlock: retry shortly) or
``DatabaseUnavailable`` (any other operational failure), never the driver's
own error: the HTTP layer maps those two like any other ledger failure.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session

from .config import sqlite_synchronous
from .errors import DatabaseBusy, DatabaseUnavailable

BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "tariff_read_only"
# FULL: each commit is on disk (fsync) before it is acknowledged, so it
# survives a power cut too. NORMAL (WAL): survives a crash or kill -9 of the
# server, not of the machine; faster. TARIFF_SQLITE_SYNCHRONOUS to choose.
# PostgreSQL's "retry the transaction" states: serialization failure,
# deadlock detected (class 40), lock not available.
RETRY_SQLSTATES = ("40001", "40P01", "55P03")


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _sqlite_setup(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection idle this long is pinged before it is used: a
# server restart, a failover or an idle timeout closes connections while they
# wait in the pool. SQLAlchemy's pool_pre_ping pings at every checkout, one round
# trip more per transaction (about a tenth of a single usage record's time,
# bench/ledger.py). A connection used within the last second is taken as alive;
# if it is not, its first statement's disconnect invalidates the pool and that
# one request fails as DatabaseUnavailable (503, safe to retry: every request
# that moves money is idempotent).
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "tariff_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # new (just connected), or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError() from exc  # the pool connects anew, and retries the checkout
            raise


def _sqlite_setup(engine: Engine) -> None:
    synchronous = sqlite_synchronous()
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
            connection.exec_driver_sql(statement)  # someone reads the statements: let them see it
            return
        # Straight on the driver: every transaction begins here, and SQLAlchemy's
        # execution machinery costs about five times the statement (bench/ledger.py).
        try:
            connection.connection.driver_connection.execute(statement)
        except connection.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy's own, for _operational
            raise DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error,
                                      dialect=connection.dialect) from exc


class Database:
    """One engine and the two kinds of transaction the service uses."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        options = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self._reader = self.engine.execution_options(**options)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction: committed when the block ends, rolled back on error."""
        with _operational(), Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction on one consistent snapshot (no write lock on SQLite)."""
        with _operational(), Session(self._reader, expire_on_commit=False) as session:
            yield session  # closing the session rolls the transaction back

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """``write`` on a Core connection, without an ORM session: committed when the
        block ends, rolled back on error (the usage path, UnitOfWork.session)."""
        with _operational(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """``read`` on a Core connection: one consistent snapshot, rolled back at the end."""
        with _operational(), self._reader.connect() as connection:
            connection.begin()
            yield connection  # closing the connection rolls the transaction back

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _operational() -> Iterator[None]:
    """The driver's operational failures (the transaction, commit included) as
    the ledger's two kinds: busy (retry shortly) or unavailable."""
    try:
        yield
    except OperationalError as exc:
        raise (DatabaseBusy if is_busy(exc) else DatabaseUnavailable)() from exc


def is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text or getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES
