"""The real server (`tariff serve`: gunicorn worker processes):

- durability: usage recorded on SQLite, the whole server killed with SIGKILL
  mid-stream, restarted on the same file: every acknowledged record is there,
  once, and the totals kept beside the ledger still equal it;
- concurrency across processes: 32 concurrent usage records for one
  organization, sent to two servers sharing one PostgreSQL database (and to
  one SQLite server with several workers): no lost update, credits never more
  than one charge below zero.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from servers import HAIKU, TERM, all_usage, assert_ledger_checks_out, kill_mid_stream

pytestmark = pytest.mark.server


def post(base, path, body, **headers):
    return requests.post(f"{base}{path}", json=body, headers=headers, timeout=60)


def setup_org(base, plan="enterprise_self_serve", members=4, credits=None):
    created = post(base, "/v1/organizations", {"id": "acme", "name": "Acme", "plan": plan, "term_start": TERM,
                                               "seats": {"enterprise": members + 1}, "primary_owner": {"id": "pat"}})
    assert created.status_code == 201, created.text
    for i in range(members):
        assert post(base, "/v1/organizations/acme/members", {"actor": "pat", "id": f"m{i}"}).status_code == 201
    if credits is not None:
        bought = post(base, "/v1/organizations/acme/credits/purchases", {"actor": "pat", "amount": credits})
        assert bought.status_code == 201, bought.text


def record(base, key, member, tokens):
    return post(base, "/v1/organizations/acme/usage",
                {"member": member, "product": "chat", "model": HAIKU, "tokens": tokens}, **{"Idempotency-Key": key})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_acknowledged_usage_survives_kill_9(migrated_url, start_server):
    server = start_server()
    setup_org(server.base, plan="enterprise_sales_assisted")
    acknowledged, lock, stop = {}, threading.Lock(), threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            key = f"c{n}-{i}"
            try:
                response = record(server.base, key, f"m{n % 4}", {"input": 1000 + i, "output": n})
            except requests.RequestException:
                return  # the server is gone
            if response.status_code == 201:
                with lock:
                    acknowledged[key] = response.json()["usage"]["billed"]
            i += 1

    kill_mid_stream(server, client, 6, stop, acknowledged, enough=300, within=60)
    assert len(acknowledged) >= 300

    restarted = start_server()
    stored = all_usage(restarted.base)
    keys = [u["idempotency_key"] for u in stored]
    assert len(keys) == len(set(keys))  # nothing twice
    missing = set(acknowledged) - set(keys)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"
    by_key = {u["idempotency_key"]: u for u in stored}
    assert all(by_key[k]["billed"] == billed for k, billed in acknowledged.items())
    # An acknowledged record retried after the restart is the first result, never a second charge.
    some = sorted(acknowledged)[0]
    retry = record(restarted.base, some, *(lambda n, i: (f"m{n % 4}", {"input": 1000 + i, "output": n}))(
        *map(int, some[1:].split("-"))))
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    summary = requests.get(f"{restarted.base}/v1/organizations/acme/usage/summary", timeout=60).json()
    assert Decimal(summary["spend"]) == sum(Decimal(u["billed"]) for u in stored)
    assert_ledger_checks_out(migrated_url)


def _concurrent_records(bases, count=32, tokens=None):
    barrier = threading.Barrier(count)

    def one(i):
        barrier.wait()
        return record(bases[i % len(bases)], f"req-{i}", f"m{i % 4}",
                      tokens or {"input": 100_000 + 7_919 * i, "output": 1_013 * i + 1})
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def _check(base, start, results, url):
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results if r.status_code >= 300]
    charged = [Decimal(r.json()["usage"]["billed"]) for r in results if r.status_code == 201]
    org = requests.get(f"{base}/v1/organizations/acme", timeout=60).json()
    assert Decimal(org["credit_balance"]) == start - sum(charged)
    assert len(all_usage(base)) == len(charged)
    assert_ledger_checks_out(url)
    return charged, Decimal(org["credit_balance"])


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_servers_on_postgres_lose_no_update(migrated_url, start_server):
    a = start_server()
    b = start_server()
    setup_org(a.base, credits="1000")
    results = _concurrent_records([a.base, b.base])
    charged, _ = _check(b.base, Decimal(1000), results, migrated_url)
    assert len(charged) == 32 and len(set(charged)) == 32


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_servers_on_postgres_keep_credits_at_most_one_charge_below_zero(migrated_url, start_server):
    a = start_server()
    b = start_server()
    setup_org(a.base, credits="1")
    results = _concurrent_records([a.base, b.base], tokens={"input": 300_000})  # 0.30 each
    charged, balance = _check(a.base, Decimal(1), results, migrated_url)
    assert len(charged) == 4 and balance == Decimal("-0.2")
    blocked = [r.json() for r in results if r.status_code == 200]
    assert len(blocked) == 28 and {b["decision"]["reasons"][0]["code"] for b in blocked} == {"credits_exhausted"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_one_sqlite_server_with_several_workers_loses_no_update(migrated_url, start_server):
    server = start_server(workers=3)
    setup_org(server.base, credits="1000")
    charged, _ = _check(server.base, Decimal(1000), _concurrent_records([server.base]), migrated_url)
    assert len(charged) == 32
