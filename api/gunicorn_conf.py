"""gunicorn settings for `tariff serve` (gunicorn -c python:tariff.api.gunicorn_conf).

Sync workers, one thread each: a worker process handles one request at a
time, so two threads never enter durable_rules in one process (it segfaults
when they do), and the engine's own lock is never contended. Concurrency
comes from processes (`--workers`).

The master prepares what the workers share before forking them:
- TARIFF_STATE_DIR: the published policy set (api/policy_store.py); a fresh
  temporary directory unless set. Its pointer is removed at start, so a
  server always starts from the policies directory as it is now.
- PROMETHEUS_MULTIPROC_DIR: per-process metric files, added up on a scrape.
- TARIFF_WEBHOOKS_DISPATCH: on unless set (each worker runs a webhook dispatcher).
"""
import glob
import os
import shutil
import tempfile

wsgi_app = "tariff.api.wsgi:app"
bind = ["127.0.0.1:8000"]
workers = int(os.environ.get("TARIFF_WORKERS", "2"))
worker_class = "sync"
threads = 1
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("TARIFF_ACCESS_LOG") or None  # e.g. "-" for stdout
errorlog = "-"
loglevel = "info"
control_socket_disable = True  # several servers on one host must not share $HOME/.gunicorn/gunicorn.ctl
proc_name = "tariff"

_created = []


def _private_dir(variable: str, prefix: str) -> str:
    path = os.environ.get(variable)
    if not path:
        path = tempfile.mkdtemp(prefix=prefix)
        os.environ[variable] = path
        _created.append(path)
    os.makedirs(path, exist_ok=True)
    return path


def on_starting(server):
    # Webhooks: every worker delivers the outbox in a thread of its own
    # (api/webhooks.py; it never enters durable_rules), unless
    # TARIFF_WEBHOOKS_DISPATCH=0. Claims are leased in the database, so workers
    # and hosts never send one delivery at once. Set here, in the master just
    # before it forks the workers, not when this module is imported: a process
    # that only reads the settings (a test) must not start dispatching.
    os.environ.setdefault("TARIFF_WEBHOOKS_DISPATCH", "1")
    state = _private_dir("TARIFF_STATE_DIR", "tariff-state-")
    try:
        os.remove(os.path.join(state, "current.json"))
    except FileNotFoundError:
        pass
    metrics = _private_dir("PROMETHEUS_MULTIPROC_DIR", "tariff-metrics-")
    for stale in glob.glob(os.path.join(metrics, "*.db")):
        os.remove(stale)


def worker_exit(server, worker):
    """Let a delivery in flight finish and be recorded (else its lease runs out and another sends it again)."""
    dispatcher = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("tariff.webhooks.dispatcher")
    if dispatcher is not None:
        dispatcher.stop(timeout=graceful_timeout / 2)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for path in _created:
        shutil.rmtree(path, ignore_errors=True)
