"""Webhooks in the ledger: the outbox is written in the transaction of the
change (notifications, blocks, transitions), and dispatchers deliver it to a
real receiver on loopback, signed, at least once, through an outage, and
never twice at once from two dispatchers."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from tariff.storage import InvalidInput, NotFound, webhooks
from tariff.storage.models import Notification, WebhookDelivery, WebhookEvent
from tariff.storage.webhooks import Dispatcher, Settings, signing
from tariff.storage.webhooks.dispatch import Outcome

OPUS = "claude-opus-4-6"  # 5 USD per million input tokens
SECRET = "whsec_0123456789abcdef"
FAST = Settings(first_retry_s=0.05, max_retry_s=0.2, poll_s=0.05, timeout_s=2)
WAIT_S = 60  # how long a test waits for deliveries before it fails (never a speed assertion)


@pytest.fixture(autouse=True)
def _now(clock):
    """Deliveries are due and given up by the wall clock: the ledger's clock starts now."""
    clock.when = datetime.now(timezone.utc).replace(microsecond=0)


def record(ledger, key, member="ana", tokens=None, org="acme"):
    return ledger.record_usage(org, idempotency_key=key, member=member, product="chat", model=OPUS,
                               tokens=tokens or {"input": 1_000_000})


def register(ledger, url="http://127.0.0.1:9/hook", **kwargs):
    return webhooks.create(ledger.books, url=url, secret=SECRET, **kwargs)


def outbox(database) -> list[WebhookEvent]:
    with database.read() as session:
        return list(session.execute(select(WebhookEvent).order_by(WebhookEvent.pk)).scalars())


def types(database) -> list[str]:
    return [e.type for e in outbox(database)]


# -- the outbox -------------------------------------------------------------------------

def test_nothing_is_written_without_an_endpoint(ledger, database, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a"), record(ledger, "b")
    with database.read() as session:
        assert session.execute(select(Notification)).first() is not None
    assert outbox(database) == []


def test_a_threshold_notification_is_an_event_in_its_transaction(ledger, database, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    endpoint = register(ledger, organization="acme")
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a")
    [event] = outbox(database)
    body = json.loads(event.body)
    assert set(body) == {"id", "type", "organization", "created_at", "data"}
    assert (body["id"], body["type"], body["organization"]) == (event.id, "notification.spend_threshold", "acme")
    assert body["data"]["level"] == "organization" and body["data"]["threshold_pct"] == 50
    assert (body["data"]["spend"], body["data"]["limit"]) == ("5", "10")  # exact decimal text
    assert body["data"]["id"] == ledger.list_notifications("acme")["items"][0]["id"]
    page = webhooks.deliveries(ledger.books, endpoint["id"])
    assert [(d["event"]["id"], d["status"], d["attempts"]) for d in page["items"]] == [(event.id, "pending", 0)]


def test_a_rolled_back_change_writes_no_event(ledger, database, new_org):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    register(ledger)
    with pytest.raises(RuntimeError):
        with ledger.books.write() as uow:
            org = uow.lock_org("acme")
            uow.session.add(Notification(org_pk=org.pk, period_start=date(2026, 12, 1), level="organization",
                                         subject="", threshold_pct=50, spend=Decimal(1), limit=Decimal(2),
                                         created_at=uow.now))
            uow.session.flush()  # the outbox rows exist in this transaction...
            assert uow.session.execute(select(WebhookEvent)).first() is not None
            raise RuntimeError("...and go with it")
    assert outbox(database) == []


def test_endpoints_get_their_organizations_events_and_the_types_they_asked_for(ledger, database, new_org):
    for org in ("acme", "beta"):
        new_org(org, plan="enterprise_sales_assisted", members=("ana",))
        ledger.set_limit(org, actor="pat", level="organization", limit=Decimal("10"))
    every = register(ledger)
    acme = register(ledger, organization="acme")
    blocks_only = register(ledger, events=["block"])
    record(ledger, "a", org="acme"), record(ledger, "a", org="beta")
    count = {w["id"]: len(webhooks.deliveries(ledger.books, w["id"])["items"]) for w in (every, acme, blocks_only)}
    assert count == {every["id"]: 2, acme["id"]: 1, blocks_only["id"]: 0}
    assert Counter(json.loads(e.body)["organization"] for e in outbox(database)) == {"acme": 1, "beta": 1}


def test_a_block_is_reported_once_per_state(ledger, database, new_org):
    new_org(members=("ana", "ben"))
    register(ledger)
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("3"))
    assert record(ledger, "1").recorded  # 3 - 5: crossing is allowed once
    for key, member in (("2", "ana"), ("3", "ben"), ("4", "ana")):
        assert record(ledger, key, member=member).outcome == "block"
    assert types(database) == ["block.credits_exhausted"]  # every member, one state: one event
    [event] = outbox(database)
    data = json.loads(event.body)["data"]
    assert data["reason"]["code"] == "credits_exhausted" and data["resume"] == [{"action": "buy_credits"}]
    assert data["member"] == "ana"
    ledger.authorize_usage("acme", member="ana", product="chat")  # a pre-check alone reports nothing
    assert len(outbox(database)) == 1
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("4"))  # 2 left: one more, then blocked again
    assert record(ledger, "5").recorded and record(ledger, "6").outcome == "block"
    assert types(database) == ["block.credits_exhausted"] * 2


def test_the_batch_path_reports_its_notifications_and_blocks(ledger, database, new_org):
    for org in ("acme", "beta"):
        new_org(org, members=("ana",))
        ledger.purchase_credits(org, actor="pat", amount=Decimal("3"))
        ledger.set_limit(org, actor="pat", level="organization", limit=Decimal("100"))
    register(ledger)
    items = [{"organization": org, "idempotency_key": key, "member": "ana", "product": "chat", "model": OPUS,
              "tokens": {"input": tokens}} for org in ("acme", "beta")
             for key, tokens in (("1", 10_000_000), ("2", 1_000_000), ("3", 1_000_000))]
    out = ledger.record_usage_batch(items)
    assert [o.status for o in out] == ["recorded", "blocked", "blocked"] * 2  # 50 of 100, then no credits
    kinds = Counter((json.loads(e.body)["organization"], e.type) for e in outbox(database))
    assert kinds == {("acme", "notification.spend_threshold"): 1, ("acme", "block.credits_exhausted"): 1,
                     ("beta", "notification.spend_threshold"): 1, ("beta", "block.credits_exhausted"): 1}


def test_a_raised_limit_reached_again_is_a_new_block(ledger, database, new_org):
    new_org(members=("ana",))
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))
    register(ledger, events=["block.individual_limit_reached"])
    record(ledger, "1")
    assert record(ledger, "2").outcome == "block" and record(ledger, "3").outcome == "block"
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("10"))
    record(ledger, "4")
    assert record(ledger, "5").outcome == "block"
    events = [json.loads(e.body) for e in outbox(database)]
    assert [(e["type"], e["data"]["reason"]["limit"]) for e in events] == [
        ("block.individual_limit_reached", "5"), ("block.individual_limit_reached", "10")]


def test_renewal_transitions_and_their_notifications_are_events(ledger, database, new_org, clock):
    clock.set(2026, 4, 10)
    new_org(plan="legacy_chat_code", channel="self_serve", seats={"chat": 3, "chat_code": 2}, hipaa_seats=1,
            owner_seat_type="chat_code", members=(("ana", "chat"),))
    register(ledger, organization="acme", events=["transition", "notification"])
    clock.set(2027, 1, 1)
    ledger.run_billing("acme", date(2027, 1, 1))
    events = [json.loads(e.body) for e in outbox(database)]
    kinds = Counter(e["type"] for e in events)
    assert kinds["transition.period_reset"] == 12  # the term's periods, January to December, closed
    assert kinds["transition.move_to_enterprise_seat"] == 1 and kinds["notification.hipaa_addon_dropped"] == 1
    move = next(e for e in events if e["type"] == "transition.move_to_enterprise_seat")
    assert move["data"]["plan"] == "enterprise_self_serve" and move["data"]["hipaa_addon_ended"] is True
    assert move["data"]["decision"]["event"] == "renewal" and move["data"]["decision"]["audit_id"] > 0
    assert move["data"]["decision"]["plan"] == "legacy_chat_code"


# -- registering ------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "example.com",
                                 "http://", "http://user:pw@example.com/", "http://exa mple.com/",
                                 "http://example.com:99999/"])
def test_only_http_urls_are_accepted(ledger, url):
    with pytest.raises(InvalidInput) as error:
        register(ledger, url=url)
    assert list(error.value.errors) == ["url"]


def test_bad_secrets_events_and_unknown_organizations_are_refused(ledger):
    with pytest.raises(InvalidInput) as error:
        webhooks.create(ledger.books, url="https://example.com/", secret="short")
    assert list(error.value.errors) == ["secret"]
    with pytest.raises(InvalidInput) as error:
        register(ledger, events=["notification", "refund", "block.X", "block.credits_exhaustd", "block.",
                                 "block.role_not_allowed", "transition.period_reset"])
    assert list(error.value.errors) == ["events.1", "events.2", "events.3", "events.4", "events.5"]
    with pytest.raises(NotFound):
        register(ledger, organization="nobody")


def test_register_list_delete_and_an_idempotent_registration(ledger, new_org):
    new_org(members=())
    made = [register(ledger, url=f"https://example.com/{i}") for i in range(3)]
    assert all("secret" not in w for w in made)
    first = webhooks.list_page(ledger.books, limit=2)
    second = webhooks.list_page(ledger.books, limit=2, cursor=first["next"])
    assert [w["id"] for w in first["items"] + second["items"]] == [w["id"] for w in made]
    assert second["next"] is None
    with pytest.raises(InvalidInput) as error:
        webhooks.list_page(ledger.books, cursor="bm9wZQ")
    assert list(error.value.errors) == ["cursor"]
    once = register(ledger, organization="acme", idempotency_key="k1")
    assert register(ledger, organization="acme", idempotency_key="k1") == once
    assert webhooks.list_page(ledger.books, organization="acme")["items"] == [once]
    # an id that names no organization: none, not the endpoints of every organization (org_pk NULL)
    assert webhooks.list_page(ledger.books, organization="nobody")["items"] == []
    webhooks.delete(ledger.books, once["id"])
    with pytest.raises(NotFound):
        webhooks.find(ledger.books, once["id"])


# -- delivering to a real receiver --------------------------------------------------------

class Receiver:
    """An HTTP server on loopback that keeps every delivery it answers 200;
    ``fail_first`` deliveries of each event id get a 500 first. Stops and
    starts again on the same port."""

    def __init__(self, fail_first: int = 0):
        self.got: list[tuple[dict, str, bytes]] = []
        self.tries: Counter = Counter()
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.server = None
        self.port = 0
        self.start()

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = json.loads(body)["id"]
                with receiver.lock:
                    receiver.tries[event_id] += 1
                    ok = receiver.tries[event_id] > receiver.fail_first
                    if ok:
                        receiver.got.append((json.loads(body), self.headers[signing.HEADER], body))
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def ids(self) -> set[str]:
        with self.lock:
            return {body["id"] for body, _, _ in self.got}


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]
    yield make
    for r in made:
        r.stop()


def dispatch_until(dispatcher: Dispatcher, done) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, "the deliveries did not all arrive"
        if not dispatcher.run_once():
            time.sleep(0.02)


def test_every_event_arrives_signed_across_a_receiver_outage(ledger, database, new_org, receiver):
    new_org(plan="enterprise_sales_assisted", members=("ana", "ben"))
    hook = receiver()
    endpoint = register(ledger, url=hook.url)
    dispatcher = Dispatcher(database, FAST)
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("20"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("20"))
    record(ledger, "a1"), record(ledger, "a2")  # 10 of 20: 50% at both levels
    dispatch_until(dispatcher, lambda: len(hook.ids()) == 2)

    hook.stop()  # the receiver goes down mid-way
    record(ledger, "a3"), record(ledger, "a4")  # 20 of 20: 80% and 100% at both levels
    expected = {e.id for e in outbox(database)}
    assert len(expected) == 6
    for _ in range(3):
        dispatcher.run_once()  # connection refused: kept, retried later
    page = webhooks.deliveries(ledger.books, endpoint["id"], status="pending")["items"]
    assert page and all(d["attempts"] >= 1 and d["last_error"] and d["next_attempt_at"] for d in page)

    hook.start()  # back, on the same port
    dispatch_until(dispatcher, lambda: hook.ids() == expected)
    assert all(signing.verify(SECRET, header, raw, time.time()) for _, header, raw in hook.got)
    assert not signing.verify("another secret, 16+", hook.got[0][1], hook.got[0][2], time.time())
    assert {d["status"] for d in webhooks.deliveries(ledger.books, endpoint["id"])["items"]} == {"delivered"}


def test_a_redelivered_event_keeps_its_id_and_body(ledger, database, new_org, receiver):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    hook = receiver(fail_first=2)  # two 500s, then 200
    endpoint = register(ledger, url=hook.url)
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a")
    dispatch_until(Dispatcher(database, FAST), lambda: hook.got)
    [event] = outbox(database)
    [(body, _, raw)] = hook.got
    assert body["id"] == event.id and raw == event.body.encode() and hook.tries[event.id] == 3
    [delivery] = webhooks.deliveries(ledger.books, endpoint["id"])["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("delivered", 3, 200)

    # Retry by hand: sent again, the same event id, which the receiver can drop as a duplicate.
    again = webhooks.retry(ledger.books, endpoint["id"], delivery["id"])
    assert again["status"] == "pending" and again["next_attempt_at"]
    dispatch_until(Dispatcher(database, FAST), lambda: len(hook.got) == 2)
    assert [b["id"] for b, _, _ in hook.got] == [event.id, event.id]


def test_a_delivery_is_given_up_then_retried_by_hand(ledger, database, new_org, receiver):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    hook = receiver()
    hook.stop()
    endpoint = register(ledger, url=hook.url)
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a")
    impatient = Dispatcher(database, Settings(first_retry_s=0.05, max_retry_s=0.05, give_up_s=0.01, timeout_s=2))
    assert impatient.run_once() == 1
    [delivery] = webhooks.deliveries(ledger.books, endpoint["id"])["items"]
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None and delivery["last_error"]
    assert impatient.run_once() == 0  # failed: not sent again by itself
    with pytest.raises(NotFound):
        webhooks.retry(ledger.books, endpoint["id"], delivery["id"] + 1000)
    hook.start()
    webhooks.retry(ledger.books, endpoint["id"], delivery["id"])
    dispatch_until(Dispatcher(database, FAST), lambda: hook.got)
    assert webhooks.deliveries(ledger.books, endpoint["id"])["items"][0]["status"] == "delivered"


def test_backoff_starts_within_five_seconds_and_is_capped():
    settings = Settings()
    delays = [settings.backoff(n) for n in range(1, 12)]
    assert delays[0] <= 5 and all(d <= 60 * 1.1 for d in delays) and delays[-1] >= 60
    assert all(a <= b * 1.1 for a, b in zip(delays, delays[1:]))


def test_two_dispatchers_never_send_one_delivery_twice(ledger, database, new_org):
    """Claims with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL): two
    dispatchers racing over the same due rows each send a disjoint share."""
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    endpoints = [register(ledger, url=f"https://example.com/{i}") for i in range(20)]
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a"), record(ledger, "b")  # 3 notifications x 20 endpoints
    sent, lock = Counter(), threading.Lock()

    def send(url, body, headers, timeout_s):
        with lock:
            sent[(url, json.loads(body)["id"])] += 1
        time.sleep(0.001)  # a slow receiver: the other dispatcher claims meanwhile
        return Outcome(True, 204)

    dispatchers = [Dispatcher(database, Settings(batch=3), send=send) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors = []

    def run(dispatcher):
        try:
            barrier.wait()
            while dispatcher.run_once():
                pass
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert errors == []
    assert len(sent) == 60 and set(sent.values()) == {1}
    with database.read() as session:
        assert set(session.execute(select(WebhookDelivery.status)).scalars()) == {"delivered"}


def test_an_expired_lease_is_claimed_again(ledger, database, new_org):
    """A dispatcher that died mid-send: its rows go to another once the lease runs out (at least once)."""
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    register(ledger)
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a")
    first = Dispatcher(database, FAST).claim()
    assert len(first) == 1 and Dispatcher(database, FAST).claim() == []  # leased
    with database.write() as session:
        session.execute(update(WebhookDelivery).values(lease_until=datetime(2000, 1, 1, tzinfo=timezone.utc)))
    second = Dispatcher(database, FAST, send=lambda *a: Outcome(True, 200))
    [again] = second.claim()
    assert again.pk == first[0].pk and again.token != first[0].token
    Dispatcher(database, FAST).record(first[0], Outcome(False, 500, "late"))  # the old claim no longer holds
    second.record(again, Outcome(True, 200))
    with database.read() as session:
        row = session.execute(select(WebhookDelivery)).scalar_one()
    assert (row.status, row.attempts, row.last_status) == ("delivered", 1, 200)


def test_a_claim_takes_the_oldest_due_across_organizations_up_to_its_batch(ledger, database, new_org):
    """Leased per organization (on its shard, docs/scaling.md), in the order they fell due."""
    for org in ("acme", "beta"):
        new_org(org, plan="enterprise_sales_assisted", members=("ana",))
        ledger.set_limit(org, actor="pat", level="organization", limit=Decimal("10"))
    register(ledger)
    for key in ("a", "b"):
        for org in ("acme", "beta"):
            record(ledger, key, org=org)
    with database.read() as session:
        due = list(session.execute(select(WebhookDelivery.pk, WebhookDelivery.org_pk)
                                   .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.pk)).all())
    assert len(due) == 6 and len({org_pk for _, org_pk in due[:3]}) == 2  # both organizations among the first
    dispatcher = Dispatcher(database, Settings(batch=3))
    first, second = dispatcher.claim(), dispatcher.claim()
    assert sorted((c.pk, c.org_pk) for c in first) == sorted(due[:3])
    assert sorted((c.pk, c.org_pk) for c in second) == sorted(due[3:])
    assert dispatcher.claim() == []
    dispatcher.record(first[0], Outcome(True, 200))
    with database.read() as session:
        assert session.get(WebhookDelivery, (first[0].org_pk, first[0].pk)).status == "delivered"


def test_deliveries_done_are_pruned_after_the_retention(ledger, database, new_org, clock):
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    register(ledger)
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a"), record(ledger, "b")  # three events
    done = Dispatcher(database, FAST, send=lambda *a: Outcome(True, 200))
    [first, *rest] = done.claim()
    done.record(first, Outcome(True, 200))
    assert Dispatcher(database, Settings(retention_s=3600)).prune() == 0  # all younger than an hour
    later = Dispatcher(database, Settings(retention_s=3600),
                       clock=lambda: datetime.now(timezone.utc) + timedelta(hours=2))
    assert later.prune() == 1  # the delivered one; the pending ones stay, whatever their age
    with database.read() as session:
        assert len(session.execute(select(WebhookDelivery)).all()) == 2
    assert len(outbox(database)) == 2


def test_a_receiver_that_breaks_the_protocol_is_a_failed_attempt():
    """Not only refused connections: a close before any answer, a garbled or cut status line are failures too."""
    import socket
    from tariff.storage.webhooks.dispatch import post
    for reply in (b"", b"HTTP/1.1 banana\r\n\r\n", b"220 smtp.example.com ESMTP\r\n"):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer(reply=reply, server=server):
            conn, _ = server.accept()
            conn.recv(65536)
            conn.sendall(reply)
            conn.close()
        thread = threading.Thread(target=answer)
        thread.start()
        outcome = post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, 5)
        thread.join()
        server.close()
        assert outcome.ok is False and outcome.error, reply


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]/", "http://10.1.2.3/",
                                 "http://169.254.169.254/latest/meta-data/", "https://192.168.0.10/",
                                 "http://0.0.0.0/"])
def test_private_targets_can_be_refused(ledger, url):
    with pytest.raises(InvalidInput) as error:
        register(ledger, url=url, private_targets=False)
    assert list(error.value.errors) == ["url"]
    assert register(ledger, url=url)["url"] == url  # allowed unless refused


def test_a_public_address_is_accepted_and_a_private_one_is_not_sent_to(ledger, database, new_org, receiver):
    assert register(ledger, url="https://93.184.216.34/hooks", private_targets=False)
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    hook = receiver()
    endpoint = register(ledger, url=hook.url)  # registered while allowed; the dispatcher now refuses
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    record(ledger, "a")
    sent = []
    strict = Dispatcher(database, Settings(first_retry_s=0.05, max_retry_s=0.1, private_targets=False),
                        send=lambda url, *a: sent.append(url) or Outcome(True, 204))
    assert strict.run_once() == 2  # both endpoints' deliveries of the one event
    assert sent == ["https://93.184.216.34/hooks"]
    [delivery] = webhooks.deliveries(ledger.books, endpoint["id"])["items"]
    assert delivery["status"] == "pending" and "not a public address" in delivery["last_error"]
    assert hook.got == []


def test_who_registered_deleted_and_retried_is_kept(ledger, database, new_org):
    """Issue 9 item 3 for webhooks: a change outside any organization's trail
    names the key that made it (as keys keep created_by and revoked_by); a
    deleted endpoint stays, marked, its secret forgotten, and is sent nothing."""
    from tariff.storage import caller
    from tariff.storage.models import WebhookEndpoint
    new_org(plan="enterprise_sales_assisted", members=("ana",))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("10"))
    with caller.acting(caller.Caller("k0123456789abcdef", "ops")):
        hook = register(ledger, organization="acme")
    assert hook["created_by"] == "k0123456789abcdef" and hook["deleted_by"] is None
    record(ledger, "a"), record(ledger, "b")  # 10 USD of 10: thresholds reached
    [delivery, *_] = webhooks.deliveries(ledger.books, hook["id"])["items"]
    with caller.acting(caller.Caller("kfedcba9876543210", "oncall")):
        retried = webhooks.retry(ledger.books, hook["id"], delivery["id"])
        gone = webhooks.delete(ledger.books, hook["id"])
    assert (retried["retried_by"], retried["retried_at"] is not None) == ("kfedcba9876543210", True)
    assert (gone["deleted"], gone["deleted_by"], gone["created_by"]) == (True, "kfedcba9876543210",
                                                                         "k0123456789abcdef")
    assert webhooks.list_page(ledger.books)["items"] == []
    assert [h["id"] for h in webhooks.list_page(ledger.books, deleted=True)["items"]] == [hook["id"]]
    with pytest.raises(NotFound):
        webhooks.find(ledger.books, hook["id"])
    before = len(outbox(database))
    record(ledger, "c", tokens={"input": 3_000_000})  # blocked now: an event, but no endpoint wants it
    with database.read() as session:
        endpoint = session.execute(select(WebhookEndpoint)).scalar_one()
        assert endpoint.secret == "" and session.execute(select(WebhookDelivery)).first() is None
    assert len(outbox(database)) == before  # no endpoint in service: nothing written
