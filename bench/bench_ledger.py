"""Ledger benchmark: usage records per second through the service layer
(``storage.Ledger.record_usage``: lock, state, pre-check, pricing, changes,
commit) on SQLite and on PostgreSQL, and the time to build the invoice of an
organization with 10,000 members and 1,000,000 usage records. Prints one
JSON line.

    .venv/bin/python bench/bench_ledger.py [--records N] [--threads T] [--members M]
                                     [--invoice-records R] [--postgres URL | --no-postgres]
                                     [--postgres-invoice]

- records/s: N usage records (default 2,000) for one prepaid organization,
  sequentially from one thread, then the same with T threads (default 4)
  competing for the organization's lock. SQLite runs with WAL and
  synchronous=FULL (each commit on disk before it is acknowledged).
- invoice: M members (default 10,000) and R usage records (default
  1,000,000) in one month, bulk-inserted directly (setup, not timed); then
  timed: ``get_invoice`` (the draft: one GROUP BY over the month's records,
  a line per member, half-up rounding) and the period close that issues it
  (the same, plus storing 10,000 lines). Target: under 10 s on SQLite.
  ``--postgres-invoice`` repeats it on PostgreSQL (slower setup).

PostgreSQL: ``--postgres URL``, else TARIFF_BENCH_DATABASE_URL, else
TARIFF_TEST_DATABASE_URL; a private schema is created and dropped.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]

from sqlalchemy import create_engine, insert

from tariff.engine import Evaluator, load_policy_set
from tariff.storage import Database, Ledger, migrate
from tariff.storage.models import Member, SeatCount, UsageRecord

NOW = datetime(2026, 4, 20, 12, tzinfo=timezone.utc)
PERIOD = date(2026, 4, 1)
MODEL = "claude-haiku-4-5"


CLOSE_DAY = date(2026, 5, 1)


class Clock:
    """The bench's own time: April 2026, then the day April closes."""
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


def _ledger(url: str, evaluator) -> Ledger:
    migrate(url)
    return Ledger(Database(url), evaluator, clock=Clock())


def records_per_second(ledger: Ledger, org: str, count: int, threads: int) -> dict:
    ledger.create_organization(id=org, name=org, plan="enterprise_self_serve", term_start=date(2026, 1, 1),
                               seats={"enterprise": 9}, primary_owner={"id": "pat"})
    for i in range(8):
        ledger.add_member(org, actor="pat", id=f"m{i}")
    ledger.purchase_credits(org, actor="pat", amount=Decimal("1000000"))

    def run(prefix: str, n: int, member: int):
        for i in range(n):
            out = ledger.record_usage(org, idempotency_key=f"{prefix}-{i}", member=f"m{(member + i) % 8}",
                                      product="chat", model=MODEL, tokens={"input": 1000 + i, "output": 200})
            assert out.recorded, out
    started = time.perf_counter()
    run("seq", count, 0)
    sequential = count / (time.perf_counter() - started)
    per_thread = max(count // threads, 1)
    workers = [threading.Thread(target=run, args=(f"t{t}", per_thread, t)) for t in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    concurrent = per_thread * threads / (time.perf_counter() - started)
    return {"records_per_s": round(sequential, 1), f"records_per_s_{threads}_threads": round(concurrent, 1),
            "records": count + per_thread * threads}


def invoice_time(ledger: Ledger, org: str, members: int, records: int) -> dict:
    ledger.create_organization(id=org, name=org, plan="enterprise_sales_assisted", term_start=date(2026, 1, 1),
                               seats={"enterprise": 1}, primary_owner={"id": "pat"})
    db = ledger.db
    setup = time.perf_counter()
    with db.write() as s:
        org_pk = ledger_org_pk(s, org)
        s.query(SeatCount).filter_by(org_pk=org_pk).update({"count": members + 1})
        s.execute(insert(Member), [{"org_pk": org_pk, "id": f"m{i:05d}", "name": None, "email": None,
                                    "role": "member", "seat_type": "enterprise", "created_at": NOW,
                                    "updated_at": NOW} for i in range(members)])
    with db.read() as s:
        member_pks = [pk for (pk,) in s.query(Member.pk).filter_by(org_pk=org_pk)]
    rng = random.Random(7)
    batch = 50_000
    for start in range(0, records, batch):
        rows = []
        for i in range(start, min(start + batch, records)):
            billed = Decimal(rng.randrange(1, 5_000_000_000)).scaleb(-9)  # up to 5 USD, nine decimals
            rows.append({"org_pk": org_pk, "member_pk": member_pks[i % len(member_pks)], "idempotency_key": f"b{i}",
                         "request_hash": "-", "period_start": PERIOD, "occurred_at": NOW, "recorded_at": NOW,
                         "seat_type": "enterprise", "product": "chat", "model": MODEL, "input_tokens": 1000,
                         "output_tokens": 100, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
                         "cache_read_tokens": 0, "cost": billed, "billed": billed, "included": Decimal(0),
                         "response": None})
        with db.write() as s:
            s.execute(insert(UsageRecord), rows)
    setup = time.perf_counter() - setup
    started = time.perf_counter()
    draft = ledger.get_invoice(org, PERIOD)
    build = time.perf_counter() - started
    assert draft["status"] == "draft" and len(draft["lines"]) == members + 1
    ledger.clock.now = datetime(2026, 5, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    run = ledger.run_billing(org, CLOSE_DAY)
    issue = time.perf_counter() - started
    ledger.clock.now = NOW
    assert run["invoices"][-1]["total"] == draft["total"]
    return {"members": members, "records": records, "build_s": round(build, 2), "close_and_issue_s": round(issue, 2),
            "setup_s": round(setup, 1), "total": draft["total"]}


def ledger_org_pk(session, org_id: str) -> int:
    from tariff.storage.models import Organization
    return session.query(Organization.pk).filter_by(id=org_id).scalar()


class PostgresSchema:
    def __init__(self, base: str):
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
        self.name = f"tariff_bench_{secrets.token_hex(4)}"
        with self.admin.connect() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{self.name}"')
        self.url = f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={self.name}')}"

    def drop(self):
        with self.admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self.admin.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--invoice-records", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("TARIFF_BENCH_DATABASE_URL")
                        or os.environ.get("TARIFF_TEST_DATABASE_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-invoice", action="store_true")
    args = parser.parse_args(argv)
    evaluator = Evaluator(load_policy_set(str(ROOT / "policies")))
    out = {"bench": "ledger", "target_invoice_s": 10}
    with tempfile.TemporaryDirectory(prefix="tariff-bench-") as tmp:
        ledger = _ledger(f"sqlite:///{tmp}/bench.sqlite3", evaluator)
        out["sqlite"] = records_per_second(ledger, "rate", args.records, args.threads)
        out["sqlite"]["invoice"] = invoice_time(ledger, "big", args.members, args.invoice_records)
        ledger.db.dispose()
    if args.postgres and not args.no_postgres:
        schema = PostgresSchema(args.postgres)
        try:
            ledger = _ledger(schema.url, evaluator)
            out["postgres"] = records_per_second(ledger, "rate", args.records, args.threads)
            if args.postgres_invoice:
                out["postgres"]["invoice"] = invoice_time(ledger, "big", args.members, args.invoice_records)
            ledger.db.dispose()
        finally:
            schema.drop()
    else:
        out["postgres"] = None
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
