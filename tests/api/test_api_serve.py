"""`tariff serve` itself: gunicorn settings and refusing a broken set."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tariff.api import gunicorn_conf
from tariff.api.serve import bind_address, serve

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_runs_sync_worker_processes_with_one_thread():
    assert gunicorn_conf.worker_class == "sync"
    assert gunicorn_conf.threads == 1
    assert gunicorn_conf.wsgi_app == "tariff.api.wsgi:app"
    assert gunicorn_conf.control_socket_disable is True


@pytest.mark.parametrize("host, port, expected", [("127.0.0.1", 8000, "127.0.0.1:8000"), ("::1", 80, "[::1]:80"),
                                                  ("[::1]", 80, "[::1]:80"), ("localhost", 1, "localhost:1")])
def test_bind_address(host, port, expected):
    assert bind_address(host, port) == expected


def test_serve_refuses_a_broken_set_with_every_finding(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    plan = policies / "plans" / "seat_based.yaml"
    plan.write_text(plan.read_text().replace("\nusage:", "\nbogus_key: 1\nusage:", 1))
    env = {**os.environ, "TARIFF_POLICIES": str(policies)}
    result = subprocess.run([sys.executable, "-m", "tariff.cli.main", "serve", "--port", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "seat_based.yaml" in result.stderr and "bogus_key" in result.stderr
    assert "not valid; not starting" in result.stderr


def test_serve_refuses_zero_workers(capsys):
    assert serve(workers=0) == 2
    assert "--workers" in capsys.readouterr().err


def test_on_starting_prepares_the_shared_directories(monkeypatch, tmp_path):
    monkeypatch.delenv("TARIFF_STATE_DIR", raising=False)
    monkeypatch.delenv("TARIFF_WEBHOOKS_DISPATCH", raising=False)  # on_starting turns it on for the workers
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_text("stale")
    monkeypatch.setattr(gunicorn_conf, "_created", [])
    gunicorn_conf.on_starting(None)
    state = os.environ["TARIFF_STATE_DIR"]
    try:
        assert os.path.isdir(state)
        assert not list((tmp_path / "metrics").glob("*.db"))
        assert os.environ["TARIFF_WEBHOOKS_DISPATCH"] == "1"
    finally:
        gunicorn_conf.on_exit(None)
        os.environ.pop("TARIFF_STATE_DIR", None)
        os.environ.pop("TARIFF_WEBHOOKS_DISPATCH", None)  # else every later app in this process dispatches
    assert not os.path.exists(state)


def _serve_env(tmp_path) -> dict:
    env = {**os.environ, "TARIFF_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}"}
    for name in ("TARIFF_API_TOKEN", "TARIFF_ADMIN_TOKEN"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.7", "::"])
def test_without_a_key_serve_refuses_any_address_but_loopback_and_says_how_to_make_one(tmp_path, host):
    result = subprocess.run([sys.executable, "-m", "tariff.cli.main", "serve", "--host", host, "--port", "1"],
                            cwd=tmp_path, env=_serve_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "local mode" in result.stderr and "tariff keys create --scope admin" in result.stderr


def test_with_a_key_serve_may_listen_anywhere(tmp_path, monkeypatch):
    from tariff.api import serve as serving
    env = _serve_env(tmp_path)
    made = subprocess.run([sys.executable, "-m", "tariff.cli.main", "keys", "create", "--scope", "admin"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0 and made.stdout.strip().splitlines()[-1].startswith("tk_")
    monkeypatch.setenv("TARIFF_DATABASE_URL", env["TARIFF_DATABASE_URL"])
    assert serving._local_mode("0.0.0.0", 8000) is None


def test_without_a_key_serve_announces_local_mode_on_loopback(tmp_path, monkeypatch, capsys):
    from tariff.api import serve as serving
    monkeypatch.setenv("TARIFF_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert serving._local_mode("127.0.0.1", 8000) is None
    assert "local mode" in capsys.readouterr().err


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
                                            ("127.8.9.10", True), ("0.0.0.0", False), ("::", False),
                                            ("example.com", False)])
def test_what_counts_as_loopback(host, loopback):
    from tariff.api.serve import is_loopback
    assert is_loopback(host) is loopback
