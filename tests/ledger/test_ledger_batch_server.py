"""The batch endpoint on the real server (`tariff serve`), on SQLite and
PostgreSQL:

- kill -9 mid-stream: every record of an acknowledged batch is there, once;
  the batches in flight, sent again after the restart, record what was lost
  and replay what was kept, never charging twice;
- two servers (PostgreSQL) taking overlapping batches for two organizations
  at once: each key recorded once, balances exact.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from servers import HAIKU, TERM, all_usage, assert_ledger_checks_out, kill_mid_stream

pytestmark = pytest.mark.server
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def make_orgs(base, orgs=("acme", "beta"), credits="100000"):
    for org in orgs:
        made = requests.post(f"{base}/v1/organizations", timeout=60, json={
            "id": org, "name": org.title(), "plan": "enterprise_self_serve", "term_start": TERM,
            "seats": {"enterprise": 5}, "primary_owner": {"id": "pat"}})
        assert made.status_code == 201, made.text
        for i in range(4):
            added = requests.post(f"{base}/v1/organizations/{org}/members", json={"actor": "pat", "id": f"m{i}"},
                                  timeout=60)
            assert added.status_code == 201, added.text
        bought = requests.post(f"{base}/v1/organizations/{org}/credits/purchases", timeout=60,
                               json={"actor": "pat", "amount": credits})
        assert bought.status_code == 201, bought.text


def batch_of(client: int, n: int, size: int = 40, orgs=("acme", "beta")) -> list[dict]:
    return [{"organization": orgs[i % len(orgs)], "idempotency_key": f"c{client}-{n}-{i}", "member": f"m{i % 4}",
             "product": "chat", "model": HAIKU, "tokens": {"input": 1000 + 7 * n + i, "output": client + 1}}
            for i in range(size)]


def post_batch(base, records):
    return requests.post(f"{base}/v1/usage/batch", json={"records": records}, timeout=60)


def balances_match(base, url, credits=Decimal("100000")):
    for org in ("acme", "beta"):
        usage = all_usage(base, org)
        keys = [u["idempotency_key"] for u in usage]
        assert len(keys) == len(set(keys))
        balance = requests.get(f"{base}/v1/organizations/{org}", timeout=60).json()["credit_balance"]
        assert Decimal(balance) == credits - sum(Decimal(u["billed"]) for u in usage)
    assert_ledger_checks_out(url)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_acknowledged_batches_survive_kill_9_and_a_resent_batch_charges_nothing_twice(migrated_url, start_server):
    server = start_server()
    make_orgs(server.base)
    acknowledged, in_flight, lock, stop = {}, [], threading.Lock(), threading.Event()

    def client(c):
        n = 0
        while not stop.is_set():
            records = batch_of(c, n)
            try:
                response = post_batch(server.base, records)
            except requests.RequestException:
                with lock:
                    in_flight.append(records)  # sent, no answer: its fate unknown
                return
            assert response.status_code == 200, response.text
            with lock:
                for r in response.json()["results"]:
                    assert r["status"] == "recorded", r
                    acknowledged[r["usage"]["idempotency_key"]] = r["usage"]["billed"]
            n += 1

    kill_mid_stream(server, client, 4, stop, acknowledged, enough=400, within=90)
    assert len(acknowledged) >= 400

    restarted = start_server()
    kept = {u["idempotency_key"]: u for org in ("acme", "beta") for u in all_usage(restarted.base, org)}
    missing = set(acknowledged) - set(kept)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:5]}"
    assert all(kept[k]["billed"] == billed for k, billed in acknowledged.items())
    for records in in_flight:  # the client's retry: whatever committed is replayed, the rest recorded
        again = post_batch(restarted.base, records)
        assert again.status_code == 200
        for record, result in zip(records, again.json()["results"]):
            assert result["status"] == ("replayed" if record["idempotency_key"] in kept else "recorded"), result
    balances_match(restarted.base, migrated_url)


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_two_servers_taking_overlapping_batches_lose_no_update(migrated_url, start_server):
    a = start_server()
    b = start_server()
    make_orgs(a.base)
    count = 8
    barrier = threading.Barrier(count)

    def one(i):
        records = batch_of(i % 4, 0, size=60)  # clients i and i + 4 send the same batch, to different servers
        barrier.wait()
        return post_batch((a, b)[i % 2].base if i < 4 else (b, a)[i % 2].base, records)
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(one, range(count)))
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers if r.status_code != 200]
    statuses = [res["status"] for r in answers for res in r.json()["results"]]
    assert set(statuses) <= {"recorded", "replayed"}
    assert statuses.count("recorded") == 4 * 60  # each key once; its twin got the replay
    balances_match(a.base, migrated_url)
