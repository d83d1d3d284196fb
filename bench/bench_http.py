"""HTTP benchmark: the real server, one run, three endpoints.

Starts `tariff serve` (gunicorn, sync worker processes) on a free port and
measures, with the same client processes and the same duration each:

- trivial: GET /healthz, a trivial JSON answer from the same server;
- single:  POST /v1/decisions, one decision per request;
- batch:   POST /v1/decisions/batch, BATCH decisions per request.

Prints one JSON line: requests and decisions per second, p50/p99 latency in
milliseconds, and the two ratios the targets are about (single >= 60% of
trivial; batch >= 5x single, in decisions per second).

    .venv/bin/python bench/bench_http.py [--workers N] [--clients N] [--seconds S]
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_to_decide() -> list[str]:
    """The fixtures' requests the engine decides (input errors left out), as JSON text."""
    from tariff.engine import Evaluator, InputError, load_policy_set
    from tariff.engine import fixture_files, load_cases
    evaluator = Evaluator(load_policy_set(ROOT / "policies"))
    out = []
    for path in fixture_files([ROOT / "fixtures"]):
        for case in load_cases(path):
            body = json.dumps(case.request, default=str)
            try:
                evaluator.decide(json.loads(body, parse_float=Decimal))
            except InputError:
                continue
            out.append(body)
    return out


def start_server(port: int, workers: int, tmp: Path, decision_log: str, env: dict | None = None,
                 ready_within: float = 60):
    """`tariff serve` on ``port``, started and ready (GET /readyz answers 200) within
    ``ready_within`` seconds; ``env`` adds to (or overrides) the environment it runs in.
    The server's output goes to ``tmp``/server.log."""
    env = {**os.environ, "TARIFF_FIXTURES": "", "TARIFF_DECISION_LOG": decision_log, **(env or {})}
    for name in ("TARIFF_STATE_DIR", "PROMETHEUS_MULTIPROC_DIR", "TARIFF_API_TOKEN"):
        env.pop(name, None)
    log = open(tmp / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "tariff.cli.main", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", str(workers)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + ready_within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}; see {tmp / 'server.log'}")
        try:
            status, _ = call(port, "GET", "/readyz", None)
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server not ready within {ready_within:g} s")


def stop_server(process, tmp: Path, within: float = 20) -> None:
    """SIGTERM to the server started by start_server, SIGKILL if it is still running after
    ``within`` seconds; then its folder ``tmp`` goes."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def call(port: int, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def client(args) -> list[float]:
    port, method, path, bodies, start_at, seconds = args
    while time.time() < start_at:
        time.sleep(0.001)
    latencies, i, end = [], 0, start_at + seconds
    while time.time() < end:
        body = bodies[i % len(bodies)] if bodies else None
        t0 = time.perf_counter()
        status, _ = call(port, method, path, body)
        latencies.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}")
        i += 1
    return latencies


def measure(pool, clients: int, port: int, method: str, path: str, bodies, seconds: float) -> dict:
    start_at = time.time() + 0.5
    results = pool.map(client, [(port, method, path, bodies, start_at, seconds)] * clients)
    latencies = sorted(x for r in results for x in r)
    n = len(latencies)
    return {"requests": n, "requests_per_s": round(n / seconds, 1),
            "p50_ms": round(latencies[n // 2] * 1000, 2), "p99_ms": round(latencies[int(n * 0.99)] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint")
    parser.add_argument("--batch", type=int, default=100, help="decisions per batch request")
    parser.add_argument("--decision-log", default="file", help="off, stdout or file (a temporary file)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tariff-bench-"))
    sink = str(tmp / "decisions.jsonl") if args.decision_log == "file" else args.decision_log
    singles = [b.encode() for b in requests_to_decide()]
    batches = [('{"requests": [' + ",".join(b.decode() for b in (singles * 2)[i:i + args.batch]) + "]}").encode()
               for i in range(0, len(singles), max(1, len(singles) // 8))][:8]
    load_before = os.getloadavg()[0]
    port = free_port()
    server = start_server(port, args.workers, tmp, sink)
    try:
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            measure(pool, args.clients, port, "POST", "/v1/decisions", singles, 1.0)  # warm every worker
            measure(pool, args.clients, port, "POST", "/v1/decisions/batch", batches, 1.0)
            trivial = measure(pool, args.clients, port, "GET", "/healthz", None, args.seconds)
            single = measure(pool, args.clients, port, "POST", "/v1/decisions", singles, args.seconds)
            batch = measure(pool, args.clients, port, "POST", "/v1/decisions/batch", batches, args.seconds)
    finally:
        stop_server(server, tmp)
    single["decisions_per_s"] = single["requests_per_s"]
    batch["decisions_per_s"] = round(batch["requests_per_s"] * args.batch, 1)
    out = {
        "bench": "http", "workers": args.workers, "clients": args.clients, "seconds": args.seconds,
        "cpus": os.cpu_count(), "loadavg_1m_before": round(load_before, 2), "decision_log": args.decision_log, "batch_size": args.batch,
        "distinct_requests": len(singles),
        "trivial": trivial, "single": single, "batch": batch,
        "single_vs_trivial": round(single["requests_per_s"] / trivial["requests_per_s"], 3),
        "batch_vs_single": round(batch["decisions_per_s"] / single["decisions_per_s"], 2),
    }
    out["targets_met"] = {"single_ge_60pct_of_trivial": out["single_vs_trivial"] >= 0.6,
                          "batch_ge_5x_single": out["batch_vs_single"] >= 5}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
