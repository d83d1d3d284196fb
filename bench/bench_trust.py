"""What trust costs, on the real server (issue 9). Prints one JSON line.

    .venv/bin/python bench/bench_trust.py [--workers 2] [--seconds 5]

Starts `tariff serve` on a fresh SQLite ledger and measures one client
deciding (POST /v1/decisions, one request after another), p50/p99 in ms:

- ``local``: no key exists yet (local mode: each request asks whether one does);
- ``keyed``: with a service key (each request checks the key: one statement);
- ``read_by_key`` / ``read_by_session``: GET /v1/organizations/acme with the
  key, and with a member session token (signature, expiry, its key live);
- ``under_validate``: the same, while two admin clients loop
  POST /v1/policies/validate at the YAML-node bound (the issue's attack,
  which took decisions' median from 5 ms to 15 s). One validation runs at a
  time per server (the other gets 429), so a worker stays free to decide;
  ``validate_ok`` / ``validate_busy`` count the two answers.

Target: ``under_validate_p50_ms`` within a few times ``keyed_p50_ms``.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DECISION = json.dumps({"plan": "enterprise_self_serve", "as_of": "2026-04-10",
                       "organization": {"term_start": "2026-01-01", "credit_balance": "250.00", "spend": "10.00",
                                        "limit": "1000"},
                       "member": {"id": "m-ana", "role": "member", "spend": "5.00", "limit": "50"},
                       "event": {"type": "usage_precheck", "product": "chat"}}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def decide_for(port, seconds, token=None, method="POST", path="/v1/decisions", body=DECISION) -> dict:
    latencies, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        status, _ = call(port, method, path, body, token)
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"{method} {path}: HTTP {status}")
    latencies.sort()
    n = len(latencies)
    return {"p50_ms": round(latencies[n // 2] * 1000, 2), "p99_ms": round(latencies[int(n * 0.99)] * 1000, 2),
            "n": n}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tariff-bench-trust-"))
    env = {**os.environ, "TARIFF_FIXTURES": "", "TARIFF_DECISION_LOG": "off",
           "TARIFF_DATABASE_URL": f"sqlite:///{tmp / 'ledger.sqlite3'}", "TARIFF_POLICIES": str(ROOT / "policies")}
    for name in ("TARIFF_STATE_DIR", "PROMETHEUS_MULTIPROC_DIR", "TARIFF_API_TOKEN", "TARIFF_ADMIN_TOKEN"):
        env.pop(name, None)
    port = free_port()
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "tariff.cli.main", "serve", "--port", str(port),
                               "--workers", str(args.workers)], cwd=tmp, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call(port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {tmp / 'server.log'}")
            time.sleep(0.2)
        out = {"bench": "trust", "workers": args.workers}
        out["local"] = decide_for(port, args.seconds)

        def key(scope):
            made = subprocess.run([sys.executable, "-m", "tariff.cli.main", "keys", "create", "--scope", scope],
                                  cwd=tmp, env=env, capture_output=True, text=True, check=True)
            return made.stdout.strip().splitlines()[-1]
        admin, service = key("admin"), key("service")
        organization = {"id": "acme", "name": "Acme", "plan": "enterprise_self_serve", "term_start": "2026-01-01",
                        "seats": {"enterprise": 2}, "primary_owner": {"id": "pat"}}
        call(port, "POST", "/v1/organizations", json.dumps(organization).encode(), admin)
        status, body = call(port, "POST", "/v1/organizations/acme/sessions", b'{"member": "pat"}', service)
        session = json.loads(body)["token"]
        out["keyed"] = decide_for(port, args.seconds, service)
        # a session cannot decide (service scope): its cost is measured on a read, against the same read by key
        out["read_by_key"] = decide_for(port, args.seconds, service, "GET", "/v1/organizations/acme", None)
        out["read_by_session"] = decide_for(port, args.seconds, session, "GET", "/v1/organizations/acme", None)

        nodes = 25_000 - 10
        flat = "rules:\n  - id: r0\n" + "".join(f"    k{i}: v\n" for i in range((nodes - 4) // 2))
        payload = json.dumps({"files": {"rules/many.yaml": flat}}).encode()
        counts, stop = {"validate_ok": 0, "validate_busy": 0, "validate_other": 0}, threading.Event()

        def validator():
            while not stop.is_set():
                status, _ = call(port, "POST", "/v1/policies/validate", payload, admin)
                counts["validate_ok" if status == 200 else "validate_busy" if status == 429
                       else "validate_other"] += 1
                if status == 429:
                    time.sleep(0.05)
        threads = [threading.Thread(target=validator) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        out["under_validate"] = decide_for(port, args.seconds * 2, service)
        stop.set()
        for t in threads:
            t.join()
        out.update(counts)
        out["load_avg_1m"] = os.getloadavg()[0]
        print(json.dumps(out))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
