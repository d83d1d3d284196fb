"""The real server: `tariff serve` (gunicorn, sync worker processes) on a
free port, hammered by 16 concurrent clients x 500 requests, each answer
compared with the engine's own; then a reload that must reach every worker.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from tariff.engine import Evaluator, InputError, load_policy_set
from tariff.engine import fixture_files, load_cases

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
CLIENTS, PER_CLIENT, WORKERS = 16, 500, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    policies = tmp / "policies"
    shutil.copytree(ROOT / "policies", policies)
    port = free_port()
    log = open(tmp / "server.log", "w+")
    env = {**os.environ, "TARIFF_POLICIES": str(policies), "TARIFF_FIXTURES": "",
           "TARIFF_DECISION_LOG": str(tmp / "decisions.jsonl"),
           "TARIFF_DATABASE_URL": f"sqlite:///{tmp / 'ledger.sqlite3'}"}
    # No key at first: local mode (loopback, no key needed); the reload test makes one.
    for name in ("TARIFF_STATE_DIR", "PROMETHEUS_MULTIPROC_DIR", "TARIFF_API_TOKEN", "TARIFF_ADMIN_TOKEN"):
        env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "tariff.cli.main", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", str(WORKERS)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read()}")
        try:
            if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or workers still booting
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the server did not become ready within 60 s")
        time.sleep(0.2)
    yield {"base": base, "process": process, "log": log, "policies": policies, "tmp": tmp, "env": env}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def expected_answers():
    """Every fixture request with the engine's answer: a decision or an input error."""
    evaluator = Evaluator(load_policy_set(ROOT / "policies"))
    out = []
    for path in fixture_files([ROOT / "fixtures"]):
        for case in load_cases(path):
            body = json.dumps(case.request, default=str)  # dates as ISO text, Decimals exact
            payload = json.loads(body, parse_float=Decimal)
            try:
                out.append((body, 200, evaluator.decide(payload).to_dict()))
            except InputError as exc:
                out.append((body, 422, {"code": exc.code, "errors": exc.errors}))
    assert len(out) > 20
    return out


def strip(decision: dict) -> dict:
    decision = dict(decision)
    decision.pop("decision_id")
    for section in ("reasons", "resume", "notifications"):
        for item in decision[section]:
            assert item.pop("message")
    if decision["transition"] is not None:
        assert decision["transition"].pop("message")
    return decision


def check(status, body, want_status, want):
    assert status == want_status, body
    if want_status == 200:
        assert strip(body) == want
    else:
        assert (body["code"], body["errors"]) == (want["code"], want["errors"])


def test_16_concurrent_clients_get_every_answer_right(server):
    answers = expected_answers()
    url = server["base"] + "/v1/decisions"
    problems, counts = [], {"single": 0, "batch_items": 0}
    lock = threading.Lock()

    def client(n: int):
        session = requests.Session()
        for i in range(PER_CLIENT):
            k = (n * PER_CLIENT + i) % len(answers)
            try:
                if i % 25 == 24:  # now and then a batch of ten
                    items = [answers[(k + j) % len(answers)] for j in range(10)]
                    body = '{"requests": [' + ",".join(b for b, _, _ in items) + "]}"
                    r = session.post(url + "/batch", data=body, headers={"Content-Type": "application/json"},
                                     timeout=30)
                    assert r.status_code == 200, r.text
                    results = json.loads(r.text, parse_float=Decimal)["results"]
                    assert [x["index"] for x in results] == list(range(10))
                    for (_, want_status, want), result in zip(items, results):
                        got = result["decision"] if result["status"] == 200 else result["error"]
                        check(result["status"], got, want_status, want)
                    with lock:
                        counts["batch_items"] += 10
                else:
                    body, want_status, want = answers[k]
                    r = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
                    check(r.status_code, json.loads(r.text, parse_float=Decimal), want_status, want)
                    with lock:
                        counts["single"] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
                with lock:
                    problems.append(f"client {n} request {i}: {type(exc).__name__}: {exc}"[:500])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems, f"{len(problems)} problems, first: {problems[:3]}"
    assert server["process"].poll() is None, "the server died"
    server["log"].seek(0)
    log = server["log"].read()
    assert log.count("Booting worker") == WORKERS, f"a worker was replaced (crashed?):\n{log[-3000:]}"
    for bad in ("signal 11", "SIGSEGV", "WORKER TIMEOUT", "Traceback", "[ERROR]"):
        assert bad not in log, log[-3000:]
    decided = counts["single"] + counts["batch_items"]
    assert counts["single"] == CLIENTS * PER_CLIENT * 24 // 25
    # the decision log: one whole JSON line per decision, from every worker, none interleaved
    lines = (server["tmp"] / "decisions.jsonl").read_text().splitlines()
    ok = sum(1 for b, s, _ in answers if s == 200) / len(answers)
    assert 0.5 * ok * decided < len(lines) <= decided
    for line in lines:
        json.loads(line)
    metrics = requests.get(server["base"] + "/metrics", timeout=5).text
    total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith("tariff_decisions_total{"))
    assert total == len(lines)  # metrics from every worker process, added up


def test_a_reload_reaches_every_worker(server):
    base = server["base"]
    old = requests.get(base + "/readyz", timeout=5).json()["policy_version"]
    made = subprocess.run([sys.executable, "-m", "tariff.cli.main", "keys", "create", "--scope", "admin"], cwd=ROOT,
                          env=server["env"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    ADMIN = made.stdout.strip().splitlines()[-1]  # the secret, once, on the last line
    assert requests.post(base + "/v1/policies/reload", timeout=30).status_code == 401  # every worker: a key exists
    path = server["policies"] / "rules" / "spend_limits.yaml"
    path.write_text("# reviewed\n" + path.read_text())
    r = requests.post(base + "/v1/policies/reload", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
    assert r.status_code == 200, r.text
    new = r.json()["new_version"]
    assert r.json()["changed"] is True and new != old
    # gunicorn hands connections to whichever worker accepts first: ask often enough to meet them all
    versions = set()
    for _ in range(200):
        versions.add(requests.get(base + "/readyz", timeout=5).json()["policy_version"])
    assert versions == {new}
    # a broken set on disk is refused and every worker keeps serving the published one
    path.write_text("rules: [unclosed\n")
    r = requests.post(base + "/v1/policies/reload", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
    assert r.status_code == 409 and r.json()["code"] == "policy_invalid"
    assert {requests.get(base + "/v1/policies", headers={"Authorization": f"Bearer {ADMIN}"},
                         timeout=5).json()["version"] for _ in range(100)} == {new}
