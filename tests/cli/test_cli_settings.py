"""A wrong setting or a database that cannot be used is one line naming it,
from every command that opens the ledger (keys, demo, serve, db), never a
traceback: exit 2 for a setting, 1 for a database that does not answer."""
from __future__ import annotations

import pytest

from tariff.api.config import build
from tariff.cli.main import main
from tariff.storage import ConfigError, Database, DatabaseUnavailable, migrate

COMMANDS = [["keys", "list"], ["keys", "create", "--scope", "admin"], ["demo"], ["serve", "--port", "8799"],
            ["db", "current"], ["db", "upgrade"], ["db", "downgrade", "0012"]]

SETTINGS = [
    ("TARIFF_DATABASE_URL", "garbage", "TARIFF_DATABASE_URL is not a database URL"),
    ("TARIFF_DATABASE_URL", "postgresql+psycopg://u@h:port/db", "TARIFF_DATABASE_URL is not a database URL"),
    ("TARIFF_DATABASE_URL", "mysql://u@h/db", "SQLite or PostgreSQL"),
    ("TARIFF_DATABASE_URL", "postgresql+pg8000://u@h/db", "no driver for postgresql+pg8000"),
    ("TARIFF_SQLITE_SYNCHRONOUS", "OFF", "TARIFF_SQLITE_SYNCHRONOUS must be one of FULL, NORMAL"),
    ("TARIFF_IDEMPOTENCY_RETENTION_DAYS", "soon", "TARIFF_IDEMPOTENCY_RETENTION_DAYS must be a whole number"),
    ("TARIFF_IDEMPOTENCY_RETENTION_DAYS", "0", "TARIFF_IDEMPOTENCY_RETENTION_DAYS must be a whole number"),
]


@pytest.fixture(autouse=True)
def _away_from_the_tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("TARIFF_DATABASE_URL", "TARIFF_SQLITE_SYNCHRONOUS", "TARIFF_IDEMPOTENCY_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("variable, value, says", SETTINGS, ids=lambda v: str(v)[:24])
def test_a_wrong_setting_is_named_in_one_line(command, variable, value, says, monkeypatch, capsys):
    monkeypatch.setenv(variable, value)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tariff {command[0]}: ") and says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("url, says", [
    ("sqlite:////nonexistent-folder/tariff.sqlite3", "unable to open database file"),
    ("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/x", "Connection refused"),
], ids=["sqlite", "postgresql"])
def test_a_database_that_cannot_be_used_is_named_without_its_password(command, url, says, monkeypatch, capsys):
    monkeypatch.setenv("TARIFF_DATABASE_URL", url)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tariff {command[0]}: the ledger's database cannot be used: ") and says in err
    assert "hunter2" not in err and "Traceback" not in err


@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1", "http"])
def test_serve_takes_a_port_from_1_to_65535(port, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2 and "--port: a port from 1 to 65535" in capsys.readouterr().err


def test_the_server_checks_the_storage_settings_when_it_starts(monkeypatch):
    monkeypatch.setenv("TARIFF_IDEMPOTENCY_RETENTION_DAYS", "a month")
    with pytest.raises(ConfigError, match="TARIFF_IDEMPOTENCY_RETENTION_DAYS"):
        build(None)


def test_migrate_says_which_database_and_why(tmp_path):
    with pytest.raises(DatabaseUnavailable) as failed:
        migrate(f"sqlite:///{tmp_path}/no/such/folder/x.sqlite3")
    assert failed.value.detail.endswith("x.sqlite3: unable to open database file")
    db = Database(f"sqlite:///{tmp_path}/fine.sqlite3")
    try:
        migrate(db)  # and a usable one still migrates
    finally:
        db.dispose()

