"""The storage's settings, each read from its environment variable and
checked in one place, so a mistyped one is named when a command or the server
starts, never met later as a traceback (or, for the retention, a failed
billing run):

- ``TARIFF_DATABASE_URL``: where the ledger lives (``database_url``);
- ``TARIFF_SQLITE_SYNCHRONOUS``: FULL (default) or NORMAL (``sqlite_synchronous``);
- ``TARIFF_IDEMPOTENCY_RETENTION_DAYS``: how long kept answers stay (``retention_days``).
"""
from __future__ import annotations

import os
from pathlib import Path

ENV = "TARIFF_DATABASE_URL"
SQLITE_FILE = "tariff.sqlite3"
SYNCHRONOUS_ENV = "TARIFF_SQLITE_SYNCHRONOUS"
SYNCHRONOUS = ("FULL", "NORMAL")
RETENTION_ENV = "TARIFF_IDEMPOTENCY_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 35
BACKENDS = ("sqlite", "postgresql")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it and says what it takes."""


def database_url(instance_path: str | os.PathLike | None = None) -> str:
    """``TARIFF_DATABASE_URL`` when set (``postgresql+psycopg://...`` for
    PostgreSQL), else ``sqlite:///<instance_path>/tariff.sqlite3``; the
    instance directory defaults to ``./instance`` and is created."""
    url = _configured_url()
    if url:
        return url
    folder = Path(instance_path) if instance_path else Path.cwd() / "instance"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot make the instance folder {folder} for the SQLite ledger: {exc.strerror}; "
                          f"set {ENV}") from None
    return f"sqlite:///{(folder / SQLITE_FILE).resolve()}"


def _configured_url() -> str | None:
    url = os.environ.get(ENV, "").strip()
    return checked_url(url) if url else None


def checked_url(url: str) -> str:
    """``url`` if SQLAlchemy can read it, for a database tariff keeps its books in,
    with its driver installed; ConfigError naming TARIFF_DATABASE_URL otherwise."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(f"{ENV} is not a database URL (e.g. postgresql+psycopg://user@host/db or "
                          f"sqlite:////var/lib/tariff/tariff.sqlite3)") from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise ConfigError(f"{ENV}: tariff keeps its books in SQLite or PostgreSQL "
                          f"(postgresql+psycopg://user@host/db), not {backend}")
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"{ENV}: no driver for {parsed.drivername} is installed ({exc}); "
                          "use postgresql+psycopg:// or sqlite://") from None
    return url


def sqlite_synchronous() -> str:
    value = os.environ.get(SYNCHRONOUS_ENV, "FULL").strip().upper() or "FULL"
    if value not in SYNCHRONOUS:
        raise ConfigError(f"{SYNCHRONOUS_ENV} must be one of {', '.join(SYNCHRONOUS)}, not {value!r}")
    return value


def retention_days() -> int:
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= 36_500:
        raise ConfigError(f"{RETENTION_ENV} must be a whole number of days from 1 to 36500, not {raw!r}")
    return days


def check() -> None:
    """Every storage setting checked at once: ConfigError names the first wrong one."""
    sqlite_synchronous()
    retention_days()
    _configured_url()
