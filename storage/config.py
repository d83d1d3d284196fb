"""Where the ledger lives: ``TARIFF_DATABASE_URL``, else a SQLite file."""
from __future__ import annotations

import os
from pathlib import Path

ENV = "TARIFF_DATABASE_URL"
SQLITE_FILE = "tariff.sqlite3"


def database_url(instance_path: str | os.PathLike | None = None) -> str:
    """``TARIFF_DATABASE_URL`` when set (``postgresql+psycopg://...`` for
    PostgreSQL), else ``sqlite:///<instance_path>/tariff.sqlite3``; the
    instance directory defaults to ``./instance`` and is created."""
    url = os.environ.get(ENV, "").strip()
    if url:
        return url
    folder = Path(instance_path) if instance_path else Path.cwd() / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / SQLITE_FILE).resolve()}"
