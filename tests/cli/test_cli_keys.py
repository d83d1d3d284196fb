"""`tariff keys create|list|revoke` on the configured database (TARIFF_DATABASE_URL)."""
from __future__ import annotations

import json

import pytest

from tariff.cli.main import main
from tariff.storage import Database, keys


@pytest.fixture
def url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    monkeypatch.setenv("TARIFF_DATABASE_URL", url)
    return url


def test_create_prints_the_secret_once_on_the_last_line_and_keeps_only_its_digest(url, capsys):
    assert main(["keys", "create", "--scope", "service", "--organization", "acme", "--name", "backend"]) == 0
    out = capsys.readouterr().out
    secret = out.strip().splitlines()[-1]
    database = Database(url)
    try:
        key = keys.authenticate(database, secret)
        assert (key.scope, key.organization, key.name) == ("service", "acme", "backend")
    finally:
        database.dispose()
    assert main(["keys", "list", "--format", "json"]) == 0
    listed = capsys.readouterr().out
    assert secret not in listed and json.loads(listed)[0]["id"] == key.id
    assert json.loads(listed)[0]["created_by"] == "cli"


def test_list_and_revoke(url, capsys):
    assert main(["keys", "list"]) == 0
    assert "local mode" in capsys.readouterr().out
    main(["keys", "create", "--scope", "admin"])
    key_id = capsys.readouterr().out.split()[2]
    assert main(["keys", "revoke", key_id]) == 0
    assert f"revoked key {key_id}" in capsys.readouterr().out
    main(["keys", "list"])
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "revoke", "knot-a-key"]) == 1
    assert "no key" in capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [(["--scope", "read"], "organization"),
                                        (["--scope", "admin", "--organization", "acme"], "organization"),
                                        (["--scope", "service", "--organization", "bad id"], "organization")])
def test_a_key_that_cannot_be_is_refused_with_a_message(url, capsys, argv, says):
    assert main(["keys", "create", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_an_unknown_scope_is_a_usage_error(url, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--scope", "root"])
    assert exited.value.code == 2


@pytest.mark.parametrize("name", ["a\tb", "line\nbreak", "esc\x1b[31mred", "bell\x07", "x" * 201, ""])
def test_a_key_name_is_printable_text_of_1_to_200_characters(url, capsys, name):
    """The name is shown in key lists, the audit trail and log lines: nothing that could forge them."""
    assert main(["keys", "create", "--scope", "admin", "--name", name]) == 2
    assert "tariff keys: name: " in capsys.readouterr().err
    assert main(["keys", "create", "--scope", "admin", "--name", "Zoë's backend (prod) #1"]) == 0
