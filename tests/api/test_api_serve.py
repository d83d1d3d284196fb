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
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_text("stale")
    monkeypatch.setattr(gunicorn_conf, "_created", [])
    gunicorn_conf.on_starting(None)
    state = os.environ["TARIFF_STATE_DIR"]
    try:
        assert os.path.isdir(state)
        assert not list((tmp_path / "metrics").glob("*.db"))
    finally:
        gunicorn_conf.on_exit(None)
        os.environ.pop("TARIFF_STATE_DIR", None)
    assert not os.path.exists(state)
