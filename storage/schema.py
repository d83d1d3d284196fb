"""Bringing a database to the code's schema: ``migrate(url)``.

The Alembic migrations ship inside the package (``storage/migrations``).
``migrate`` is safe to call from every worker process at start-up at once:
it migrates inside one transaction holding a lock (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: an advisory transaction lock), so the first caller
migrates and the others then find the schema at head. DDL is transactional
on both databases: a failed migration leaves the schema as it was.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from .db import Database, _operational
from .errors import DatabaseUnavailable, InvalidInput, MigrationRefused

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK = 0x7461726966  # "tarif"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def made_on(dialect: str):
    """Alembic's ``include_object`` for comparing the models with a database of ``dialect``:
    leaves out what the models make on other databases only (``ddl_if``: SQLite's unique
    ``(org_pk, pk)`` indexes, models.org_key), which Alembic does not know of."""
    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return reflected or only is None or only.dialect in (None, dialect)
    return include


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return _revision(connection)


def _revision(connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current(url_or_database: str | Database) -> str | None:
    """The revision the database's schema is at (None: never migrated)."""
    return _on(url_or_database, current_revision)


def migrate(url_or_database: str | Database, revision: str = "head") -> str:
    """Upgrade the database to ``revision``; returns the revision it is at."""
    return _on(url_or_database, lambda database: _upgrade(database, revision))


def downgrade(url_or_database: str | Database, revision: str) -> str:
    """Take the schema back to ``revision`` (rolling a release back, with the newer
    release's code: it holds the migrations to undo); returns the revision it is at.
    InvalidInput when ``revision`` is not one of the migrations, or not below the schema's."""
    return _on(url_or_database, lambda database: _locked(database, lambda config: command.downgrade(config,
                                                                                                    revision)))


def _on(url_or_database: str | Database, run):
    """``run(database)``; a database that cannot be reached or written is DatabaseUnavailable
    naming it (without its password) and why, for the command that started it; Alembic's
    refusal of a revision is InvalidInput naming it."""
    database = url_or_database if isinstance(url_or_database, Database) else Database(url_or_database)
    try:
        with _operational():
            return run(database)
    except DatabaseUnavailable as exc:
        cause = exc.__cause__
        reason = str(getattr(cause, "orig", None) or cause or "").strip().splitlines()
        exc.detail = f"{database.engine.url.render_as_string(hide_password=True)}" + (f": {reason[0]}" if reason else "")
        raise
    except CommandError as exc:  # an unknown revision, or one the schema cannot go to from where it is
        known = ", ".join(s.revision for s in reversed(list(ScriptDirectory.from_config(alembic_config())
                                                             .walk_revisions())))
        raise InvalidInput.field("revision", f"{exc} (the migrations: {known})") from exc
    finally:
        if database is not url_or_database:
            database.dispose()


def _upgrade(database: Database, revision: str) -> str:
    if revision == "head":
        head = head_revision()
        if current_revision(database) == head:  # the usual start: nothing to do, no lock taken
            return head
    return _locked(database, lambda config: command.upgrade(config, revision))


def _locked(database: Database, step) -> str:
    """Run ``step(config)`` in one transaction holding the migration lock.

    SQLite alters a table by copying it (Alembic's batch mode): with foreign
    keys enforced, dropping the old copy of a table that others point at
    fails. So, as SQLite's own procedure for such changes has it
    (lang_altertable.html), they are off for the migration (set outside the
    transaction: inside one the pragma does nothing), checked with
    ``foreign_key_check`` before it commits, and on again after."""
    config = alembic_config()
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver = connection.connection.driver_connection if sqlite else None
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if not sqlite:  # PostgreSQL (SQLite's BEGIN IMMEDIATE is its lock)
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
                config.attributes["connection"] = connection
                try:
                    step(config)
                except IntegrityError as exc:  # PostgreSQL checks a new key against the rows as it makes it
                    why = "; ".join(" ".join(line.split()) for line in str(exc.orig).strip().splitlines())
                    raise MigrationRefused(f"the migration finds rows its keys refuse: {why}") from exc
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:  # (table, rowid, parent table, key number)
                        raise MigrationRefused(f"the migration leaves rows its foreign keys refuse (table, row, parent): "
                                               f"{[row[:3] for row in broken[:5]]}")
                return _revision(connection)
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")
