"""Helpers for the tests that start the real server (`tariff serve`, gunicorn
worker processes) over a ledger database: tests/ledger/test_ledger_server.py
and tests/ledger/test_ledger_batch_server.py (their ``servers`` fixture, which
stops what a test started, is in tests/ledger/conftest.py).

Importable from any test folder: pytest puts tests/ on sys.path for
tests/conftest.py (the default ``prepend`` import mode).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from tariff.engine.periods import add_months, period_start
from tariff.storage import Database, check_ledger

REPO_ROOT = Path(__file__).resolve().parents[1]

TERM = add_months(period_start(date.today()), -1).isoformat()
HAIKU = "claude-haiku-4-5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`tariff serve` in its own process group, so SIGKILL reaches the master
    and every worker at once (as a crash or an OOM kill would)."""

    def __init__(self, database_url: str, tmp, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"server-{self.port}.log"
        self.log = open(self.log_path, "w+")
        env = {**os.environ, "TARIFF_DATABASE_URL": database_url, "TARIFF_FIXTURES": "",
               "TARIFF_DECISION_LOG": "off", "TARIFF_POLICIES": str(REPO_ROOT / "policies"),
               "TARIFF_STATE_DIR": str(tmp / f"state-{self.port}")}
        for name in ("PROMETHEUS_MULTIPROC_DIR", "TARIFF_API_TOKEN", "TARIFF_ADMIN_TOKEN"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tariff.cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)], cwd=REPO_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the server was not ready within 90 s:\n{self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def kill(self):
        """SIGKILL to the server's process group (only the processes this test started)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


def kill_mid_stream(server: Server, client, clients: int, stop: threading.Event, acknowledged, enough: int,
                    within: float) -> None:
    """Runs ``client(n)`` for each n in range(clients), each in a thread of its own, until ``acknowledged``
    holds ``enough`` entries (or ``within`` seconds have passed); then SIGKILLs the server mid-stream
    (requests in flight are lost, acknowledged ones must not be), sets ``stop`` and joins the threads.
    Whether enough were acknowledged is the test's to assert."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + within
    while len(acknowledged) < enough and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=60)


def all_usage(base, org="acme") -> list[dict]:
    """Every usage record of ``org`` the server at ``base`` lists, page after page."""
    out, cursor = [], None
    while True:
        page = requests.get(f"{base}/v1/organizations/{org}/usage", timeout=60,
                            params={"limit": 1000, **({"cursor": cursor} if cursor else {})}).json()
        out += page["items"]
        cursor = page["next"]
        if cursor is None:
            return out


def assert_ledger_checks_out(url: str) -> None:
    """The totals kept beside the ledger at ``url`` equal the ledger (check_ledger, on a connection of its own)."""
    db = Database(url)
    try:
        problems = check_ledger(db)
        assert problems == [], problems  # (said here: pytest rewrites no assert outside test modules)
    finally:
        db.dispose()
