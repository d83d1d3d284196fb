"""`tariff db`: the schema's revision, upgrading to this release's, and taking it
back for an older release; a revision that cannot be gone to is one line naming
it (exit 2), never a traceback."""
from __future__ import annotations

import pytest

from tariff.cli.main import main
from tariff.storage import head_revision


@pytest.fixture(autouse=True)
def _database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TARIFF_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    for name in ("TARIFF_SQLITE_SYNCHRONOUS", "TARIFF_IDEMPOTENCY_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["db", *argv])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


def test_current_upgrade_downgrade_and_back(capsys):
    head = head_revision()
    assert run(capsys, "current") == (0, f"schema at nothing (never migrated); this release's: {head}", "")
    assert run(capsys, "upgrade") == (0, f"schema at {head}", "")
    assert run(capsys, "downgrade", "0012") == (0, "schema at 0012", "")
    assert run(capsys, "current") == (0, f"schema at 0012; this release's: {head}", "")
    assert run(capsys, "upgrade") == (0, f"schema at {head}", "")
    assert run(capsys, "current") == (0, f"schema at {head}; this release's: {head}", "")


@pytest.mark.parametrize("argv, says", [
    (["downgrade", "zzz"], "Can't locate revision identified by 'zzz'"),
    (["upgrade", "0999"], "Can't locate revision identified by '0999'"),
    (["downgrade", "HEAD_REVISION"], "not a valid downgrade target"),  # from 0012: above it
])
def test_a_revision_that_cannot_be_gone_to_is_named(argv, says, capsys):
    assert run(capsys, "upgrade")[0] == 0
    assert run(capsys, "downgrade", "0012") == (0, "schema at 0012", "")
    argv = [head_revision() if a == "HEAD_REVISION" else a for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("tariff db: revision: ") and says in err and "0001" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert run(capsys, "current")[1].startswith("schema at 0012;")  # left as it was


def test_rows_the_new_keys_refuse_stop_the_upgrade_in_one_line(tmp_path, capsys):
    """An acme audit entry naming beta's member as its actor: 0015's keys within the
    organization refuse it; the upgrade says which table, exits 1, and leaves 0014."""
    import sqlite3
    assert run(capsys, "upgrade", "0014") == (0, "schema at 0014", "")
    raw = sqlite3.connect(tmp_path / "ledger.sqlite3")
    raw.executescript(
        "INSERT INTO organizations (pk, id, name, plan, channel, term_start, renewal_date, hipaa_seats, extra_usage,"
        " credit_balance, created_at, updated_at) VALUES (1, 'acme', 'a', 'p', 'c', '2026-01-01', '2027-01-01', 0, 0,"
        " 0, 'x', 'x'), (2, 'beta', 'b', 'p', 'c', '2026-01-01', '2027-01-01', 0, 0, 0, 'x', 'x');"
        "INSERT INTO members (pk, org_pk, id, role, seat_type, created_at, updated_at) VALUES"
        " (1, 1, 'pat', 'primary_owner', 'enterprise', 'x', 'x'), (2, 2, 'pat', 'primary_owner', 'enterprise', 'x', 'x');"
        "INSERT INTO events (org_pk, kind, actor_pk, as_of, outcome, decision, created_at) VALUES"
        " (1, 'limit_change', 2, '2026-01-02', 'allow', '{}', 'x');")
    raw.close()
    assert run(capsys, "upgrade") == (
        1, "", "tariff db: the migration leaves rows its foreign keys refuse (table, row, parent): "
               "[('events', 1, 'members')]")
    assert run(capsys, "current")[1].startswith("schema at 0014;")
