"""Webhook delivery: deliveries/s from the outbox to a receiver on loopback,
with one dispatcher and with two racing over the same rows, on SQLite and
(with --postgres URL) PostgreSQL. Prints one JSON line.

    .venv/bin/python bench/bench_webhooks.py [--deliveries N] [--postgres URL]

Setup (not timed): a migrated database with one organization, one endpoint
and N pending deliveries (events written as the outbox writes them). Timed:
dispatchers claiming, POSTing (signed) to a ThreadingHTTPServer answering
204, and recording, until none is due. ``duplicates`` counts event ids the
receiver got more than once: 0 is the claim's promise (beyond at-least-once
after a crash, which this does not provoke). No target: figures for the record.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

from sqlalchemy import create_engine, insert

from tariff.storage import Database, migrate
from tariff.storage.models import Organization, OrganizationId, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tariff.storage.webhooks import Dispatcher, Settings


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.ids: Counter = Counter()
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                with lock:
                    self.ids[json.loads(body)["id"]] += 1
                handler.send_response(204)
                handler.end_headers()

            def log_message(handler, *args):
                pass
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def fill(db: Database, url: str, count: int) -> None:
    now = datetime.now(timezone.utc)
    with db.write() as session:
        org = Organization(id="acme", name="Acme", plan="enterprise_sales_assisted", channel="sales_assisted",
                           term_start=date(now.year, 1, 1), renewal_date=date(now.year + 1, 1, 1),
                           created_at=now, updated_at=now)
        endpoint = WebhookEndpoint(id="wh_bench", url=url, secret="whsec_bench_0123456789", created_at=now)
        session.add_all([org, endpoint])
        session.flush()
        session.add(OrganizationId(id="acme", org_pk=org.pk))
        events = [{"id": f"evt_{secrets.token_hex(12)}", "org_pk": org.pk, "type": "notification.spend_threshold",
                   "created_at": now} for _ in range(count)]
        for event in events:
            event["body"] = json.dumps({"id": event["id"], "type": event["type"], "organization": "acme",
                                        "created_at": now.isoformat(), "data": {"threshold_pct": 50}})
        pks = session.execute(insert(WebhookEvent).returning(WebhookEvent.pk, sort_by_parameter_order=True),
                              events).scalars().all()
        session.execute(insert(WebhookDelivery), [
            {"endpoint_pk": endpoint.pk, "event_pk": pk, "org_pk": org.pk, "status": "pending", "attempts": 0,
             "next_attempt_at": now, "window_start": now, "created_at": now} for pk in pks])


def drain(dispatcher: Dispatcher) -> None:
    while dispatcher.run_once():
        pass


def run(db: Database, dispatchers: int) -> float:
    started = time.perf_counter()
    threads = [threading.Thread(target=drain, args=(Dispatcher(db, Settings()),)) for _ in range(dispatchers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def measure(make_url, deliveries: int) -> dict:
    out = {}
    for name, dispatchers in (("one", 1), ("two", 2)):
        url, cleanup = make_url()
        try:
            migrate(url)
            db = Database(url)
            receiver = Receiver()
            fill(db, f"http://127.0.0.1:{receiver.server_address[1]}/", deliveries)
            seconds = run(db, dispatchers)
            out[name] = {"dispatchers": dispatchers, "deliveries": deliveries, "seconds": round(seconds, 3),
                         "deliveries_per_s": round(deliveries / seconds, 1),
                         "received": len(receiver.ids), "duplicates": sum(n - 1 for n in receiver.ids.values())}
            receiver.shutdown()
            receiver.server_close()
            db.dispose()
        finally:
            cleanup()
    return out


def sqlite_url():
    folder = tempfile.mkdtemp(prefix="tariff-bench-webhooks-")
    return f"sqlite:///{folder}/ledger.sqlite3", lambda: None


def postgres_url(base: str):
    def make():
        schema = f"bench_webhooks_{secrets.token_hex(4)}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in base else "?"

        def drop():
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
        return f"{base}{sep}options={quote(f'-csearch_path={schema}')}", drop
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("TARIFF_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL (default: TARIFF_TEST_DATABASE_URL)")
    args = parser.parse_args()
    line = {"bench": "webhooks", "load_avg_1m": round(os.getloadavg()[0], 2),
            "sqlite": measure(sqlite_url, args.deliveries)}
    if args.postgres:
        line["postgres"] = measure(postgres_url(args.postgres), args.deliveries)
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
