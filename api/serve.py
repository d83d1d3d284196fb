"""`tariff serve`: gunicorn with sync worker processes (api/gunicorn_conf.py).

The policy set is checked first, so a broken set is reported here with every
finding instead of as a worker that fails to boot. Then this process becomes
the gunicorn master (exec), so signals reach gunicorn directly: TERM/INT to
stop, HUP to restart the workers (they come back with the last published
set, see api/policy_store.py).
"""
from __future__ import annotations

import os
import sys


def bind_address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 2) -> int:
    if workers < 1:
        print("tariff serve: --workers must be at least 1", file=sys.stderr)
        return 2
    from tariff.engine import PolicyError, load_policy_set
    from .config import ConfigError, build
    try:
        config = build(None)
    except ConfigError as exc:
        print(f"tariff serve: {exc}", file=sys.stderr)
        return 2
    try:
        load_policy_set(config["POLICIES_DIR"])
    except PolicyError as exc:
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        print(f"tariff serve: the policy set in {config['POLICIES_DIR']} is not valid; not starting",
              file=sys.stderr)
        return 1
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:tariff.api.gunicorn_conf",
            "--bind", bind_address(host, port), "--workers", str(workers)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached
