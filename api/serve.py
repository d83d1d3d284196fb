"""`tariff serve`: gunicorn with sync worker processes (api/gunicorn_conf.py).

The policy set is checked first, so a broken set is reported here with every
finding instead of as a worker that fails to boot. Then this process becomes
the gunicorn master (exec), so signals reach gunicorn directly: TERM/INT to
stop, HUP to restart the workers (they come back with the last published
set, see api/policy_store.py).

Local mode: while no API key exists in the server's database, every /v1
request is served without one, but only to loopback callers (api/auth.py);
so the server then listens on loopback only, says so when it starts, and
refuses any other address with the command that makes a key.
"""
from __future__ import annotations

import ipaddress
import os
import sys


def bind_address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_mode(host: str, port: int) -> int | None:
    """None to go on; an exit code when the address is refused (no key yet, not loopback)."""
    from flask import Flask
    from tariff.storage import Database, database_url, keys, migrate
    url = database_url(Flask("tariff").instance_path)  # as the workers resolve it (api/accounts)
    migrate(url)
    database = Database(url)
    try:
        exist = keys.any_exist(database)
    finally:
        database.dispose()
    if exist:
        return None
    if not is_loopback(host):
        print(f"tariff serve: no API key exists yet, so tariff serves loopback only (local mode) and will not "
              f"listen on {host}. Make a key first:\n    tariff keys create --scope admin\nthen send it as "
              f"`Authorization: Bearer <secret>`.", file=sys.stderr)
        return 2
    print(f"tariff serve: local mode: no API key exists yet, so /v1 needs none from this machine and the server "
          f"listens on {bind_address(host, port)} only; once `tariff keys create` makes one, every /v1 request "
          f"needs a key", file=sys.stderr)
    return None


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
    refused = _local_mode(host, port)
    if refused is not None:
        return refused
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:tariff.api.gunicorn_conf",
            "--bind", bind_address(host, port), "--workers", str(workers)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached
