"""/v1/webhooks: register, list (cursor pages), read, delete endpoints; their
deliveries and retry by hand; who may (admin, or a service key for its own
organization); and the dispatcher thread an app runs when asked."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tariff.api.webhooks import DISPATCHER
from tariff.storage.webhooks import signing

SECRET = "whsec_0123456789abcdef"
WAIT_S = 60


def ledger(app):
    return app.extensions["tariff.ledger"]


def make_org(app, org_id="acme", limit="10"):
    """An arrears organization whose primary owner is pat, with an organization
    limit (each 1M Opus input tokens is 5 USD), made through the app's ledger."""
    with app.app_context():
        book = ledger(app)
        book.books.clock = lambda: datetime.now(timezone.utc)
        book.create_organization(id=org_id, name=org_id.title(), plan="enterprise_sales_assisted",
                                 term_start=datetime.now(timezone.utc).date().replace(month=1, day=1),
                                 seats={"enterprise": 2}, primary_owner={"id": "pat"})
        book.set_limit(org_id, actor="pat", level="organization", limit=Decimal(limit))
    return org_id


@pytest.fixture
def org(app):
    return make_org(app)


def spend(app, key):
    with app.app_context():
        ledger(app).record_usage("acme", idempotency_key=key, member="pat", product="chat",
                                 model="claude-opus-4-6", tokens={"input": 1_000_000})


def register(client, **body):
    return client.post("/v1/webhooks", json={"url": "https://example.com/hooks", "secret": SECRET, **body})


def test_register_read_list_and_delete(client, org):
    made = register(client, organization=org, events=["block", "notification.spend_threshold"])
    assert made.status_code == 201
    body = made.get_json()
    assert set(body) == {"id", "url", "organization", "events", "created_at", "created_by", "deleted_at",
                         "deleted_by"}  # never the secret
    assert (body["organization"], body["events"]) == ("acme", ["block", "notification.spend_threshold"])
    assert client.get(f"/v1/webhooks/{body['id']}").get_json() == body
    others = [register(client, url=f"https://example.com/{i}").get_json()["id"] for i in range(2)]
    first = client.get("/v1/webhooks?limit=2").get_json()
    second = client.get(f"/v1/webhooks?limit=2&cursor={first['next']}").get_json()
    assert [w["id"] for w in first["items"] + second["items"]] == [body["id"], *others] and second["next"] is None
    assert [w["id"] for w in client.get("/v1/webhooks?organization=acme").get_json()["items"]] == [body["id"]]
    gone = client.delete(f"/v1/webhooks/{body['id']}")
    assert gone.status_code == 200 and gone.get_json()["deleted"] is True
    missing = client.get(f"/v1/webhooks/{body['id']}")
    assert missing.status_code == 404 and missing.get_json()["code"] == "webhook_not_found"
    assert body["id"] not in [w["id"] for w in client.get("/v1/webhooks").get_json()["items"]]
    [kept] = client.get("/v1/webhooks?deleted=true").get_json()["items"]  # kept, marked: the audit of it
    assert kept["id"] == body["id"] and kept["deleted_at"] is not None


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://example.com/x"}, "url"), ({"url": "file:///etc/passwd"}, "url"),
    ({"url": "gopher://127.0.0.1:70/"}, "url"), ({"url": "//example.com/"}, "url"),
    ({"secret": "too-short"}, "secret"), ({"events": ["refund"]}, "events.0"), ({"events": []}, "events"),
    ({"organization": "no such org!"}, "organization"), ({"colour": "red"}, "colour")])
def test_bad_registrations_are_422_naming_the_field(client, body, field):
    response = register(client, **body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_missing_url_or_secret_is_named(client):
    response = client.post("/v1/webhooks", json={})
    assert response.status_code == 422 and {"url", "secret"} <= set(response.get_json()["errors"])


def test_an_unknown_organization_is_404(client):
    assert register(client, organization="nobody").status_code == 404


def test_a_cursor_not_ours_is_422(client):
    response = client.get("/v1/webhooks?cursor=bm9wZQ")
    assert response.status_code == 422 and "cursor" in response.get_json()["errors"]


def test_registering_with_an_idempotency_key_is_once(client, org):
    headers = {"Idempotency-Key": "reg-1"}
    first = client.post("/v1/webhooks", json={"url": "https://example.com/h", "secret": SECRET}, headers=headers)
    again = client.post("/v1/webhooks", json={"url": "https://example.com/h", "secret": SECRET}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(client.get("/v1/webhooks").get_json()["items"]) == 1
    other = client.post("/v1/webhooks", json={"url": "https://example.com/other", "secret": SECRET}, headers=headers)
    assert other.status_code == 409


def test_deliveries_are_listed_and_retried_by_hand(app, client, org):
    hook = register(client, organization=org).get_json()
    spend(app, "a"), spend(app, "b")  # 50%, then 80% and 100% of the limit
    page = client.get(f"/v1/webhooks/{hook['id']}/deliveries?limit=2").get_json()
    rest = client.get(f"/v1/webhooks/{hook['id']}/deliveries?cursor={page['next']}").get_json()
    items = page["items"] + rest["items"]
    assert [d["event"]["type"] for d in items] == ["notification.spend_threshold"] * 3
    assert {(d["status"], d["attempts"]) for d in items} == {("pending", 0)}
    assert all(d["next_attempt_at"] for d in items)
    retried = client.post(f"/v1/webhooks/{hook['id']}/deliveries/{items[0]['id']}/retry")
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    assert client.post(f"/v1/webhooks/{hook['id']}/deliveries/999999/retry").get_json()["code"] == \
        "delivery_not_found"
    assert client.get(f"/v1/webhooks/{hook['id']}/deliveries?status=lost").status_code == 422
    assert client.get(f"/v1/webhooks/{hook['id']}/deliveries?status=delivered").get_json()["items"] == []


# -- who may ----------------------------------------------------------------------------------

def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_admin_or_a_service_key_for_its_own_organization(app, client, org, make_key):
    make_org(app, "beta")
    admin, acme, beta = make_key(app, "admin"), make_key(app, "service", "acme"), make_key(app, "service", "beta")
    read = make_key(app, "read", "acme")
    body = {"url": "https://example.com/h", "secret": SECRET}
    assert client.post("/v1/webhooks", json=body).status_code == 401  # keys exist: no more local mode
    assert client.post("/v1/webhooks", json=body, headers=bearer(acme)).status_code == 403  # every org: admin
    assert client.post("/v1/webhooks", json={**body, "organization": "beta"}, headers=bearer(acme)).status_code \
        == 404
    assert client.post("/v1/webhooks", json={**body, "organization": "acme"}, headers=bearer(read)).status_code \
        == 403
    mine = client.post("/v1/webhooks", json={**body, "organization": "acme"}, headers=bearer(acme)).get_json()
    every = client.post("/v1/webhooks", json=body, headers=bearer(admin)).get_json()
    assert [w["id"] for w in client.get("/v1/webhooks", headers=bearer(acme)).get_json()["items"]] == [mine["id"]]
    assert client.get("/v1/webhooks", headers=bearer(beta)).get_json()["items"] == []
    assert len(client.get("/v1/webhooks", headers=bearer(admin)).get_json()["items"]) == 2
    for url in (f"/v1/webhooks/{mine['id']}", f"/v1/webhooks/{mine['id']}/deliveries"):
        assert client.get(url, headers=bearer(beta)).status_code == 404
        assert client.get(url, headers=bearer(acme)).status_code == 200
    assert client.get(f"/v1/webhooks/{every['id']}", headers=bearer(acme)).status_code == 404
    assert client.delete(f"/v1/webhooks/{mine['id']}", headers=bearer(beta)).status_code == 404
    assert client.delete(f"/v1/webhooks/{mine['id']}", headers=bearer(acme)).status_code == 200


# -- the dispatcher thread ----------------------------------------------------------------------

class Receiver(ThreadingHTTPServer):
    def __init__(self):
        self.got = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.got.append((body, handler.headers[signing.HEADER]))
                handler.send_response(204)
                handler.end_headers()

            def log_message(handler, *args):
                pass
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_an_app_runs_no_dispatcher_unless_asked(app):
    assert DISPATCHER not in app.extensions


def test_an_app_asked_to_dispatch_delivers_in_a_thread(make_app):
    app = make_app(WEBHOOKS_DISPATCH=True, WEBHOOKS_POLL_S=0.05)
    receiver = Receiver()
    try:
        client = app.test_client()
        make_org(app)
        hook = register(client, url=f"http://127.0.0.1:{receiver.server_address[1]}/h").get_json()
        spend(app, "a")
        deadline = time.monotonic() + WAIT_S
        while not receiver.got:
            assert time.monotonic() < deadline, "the dispatcher thread delivered nothing"
            time.sleep(0.02)
        body, header = receiver.got[0]
        assert signing.verify(SECRET, header, body, time.time())
        event = json.loads(body)
        assert (event["type"], event["organization"], event["data"]["threshold_pct"]) == \
            ("notification.spend_threshold", "acme", 50)
        deadline = time.monotonic() + WAIT_S
        while client.get(f"/v1/webhooks/{hook['id']}/deliveries").get_json()["items"][0]["status"] != "delivered":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        app.extensions[DISPATCHER].stop(10)
        receiver.shutdown()
        receiver.server_close()


# -- `tariff serve` alone delivers ------------------------------------------------------------

@pytest.mark.server
def test_tariff_serve_delivers_with_several_workers(tmp_path):
    """No other process: each worker of `tariff serve` runs a dispatcher, and
    with two of them every event still arrives, signed, and is recorded delivered."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    from pathlib import Path

    import requests

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TARIFF_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}", "TARIFF_FIXTURES": "",
           "TARIFF_DECISION_LOG": "off", "TARIFF_POLICIES": str(root / "policies"),
           "TARIFF_STATE_DIR": str(tmp_path / "state"), "TARIFF_WEBHOOKS_POLL_S": "0.1"}
    for name in ("PROMETHEUS_MULTIPROC_DIR", "TARIFF_WEBHOOKS_DISPATCH"):
        env.pop(name, None)
    log = open(tmp_path / "server.log", "w+")
    process = subprocess.Popen([sys.executable, "-m", "tariff.cli.main", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", "2"], cwd=root, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base, receiver = f"http://127.0.0.1:{port}", Receiver()
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (log.seek(0), log.read())[1]
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        term = datetime.now(timezone.utc).date().replace(month=1, day=1).isoformat()
        post = lambda path, body, key: requests.post(f"{base}{path}", json=body,  # noqa: E731
                                                     headers={"Idempotency-Key": key}, timeout=30)
        assert post("/v1/organizations", {"id": "acme", "name": "Acme", "plan": "enterprise_sales_assisted",
                                          "term_start": term, "seats": {"enterprise": 2},
                                          "primary_owner": {"id": "pat"}}, "org").status_code == 201
        assert requests.put(f"{base}/v1/organizations/acme/limits", timeout=30, headers={"Idempotency-Key": "l"},
                            json={"actor": "pat", "level": "organization", "limit": "10"}).status_code == 200
        hook = post("/v1/webhooks", {"url": f"http://127.0.0.1:{receiver.server_address[1]}/h", "secret": SECRET},
                    "hook").json()
        for i in range(2):  # 5 then 10 of 10: 50%, then 80% and 100%
            assert post("/v1/organizations/acme/usage", {"member": "pat", "product": "chat",
                                                         "model": "claude-opus-4-6", "tokens": {"input": 1_000_000}},
                        f"u{i}").status_code == 201
        deadline = time.monotonic() + WAIT_S
        while len({json.loads(body)["id"] for body, _ in receiver.got}) < 3:
            assert time.monotonic() < deadline, "the server's workers did not deliver every event"
            time.sleep(0.05)
        assert all(signing.verify(SECRET, header, body, time.time()) for body, header in receiver.got)
        assert sorted(json.loads(body)["data"]["threshold_pct"] for body, _ in receiver.got) == [50, 80, 100]
        deliveries = requests.get(f"{base}/v1/webhooks/{hook['id']}/deliveries", timeout=30).json()["items"]
        deadline = time.monotonic() + WAIT_S
        while {d["status"] for d in deliveries} != {"delivered"}:
            assert time.monotonic() < deadline
            time.sleep(0.05)
            deliveries = requests.get(f"{base}/v1/webhooks/{hook['id']}/deliveries", timeout=30).json()["items"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        receiver.shutdown()
        receiver.server_close()


# -- the README's receiver ------------------------------------------------------------------------

def readme_receiver() -> dict:
    """The README's receiver example, run as a module (its server is started by the test)."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = text.index("```python\n# receiver.py")
    code = text[start + len("```python\n"):text.index("```", start + 10)]
    namespace = {"__name__": "readme_receiver"}
    exec(compile(code, "README.md#receiver.py", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace


def test_the_readme_receiver_verifies_signatures_and_refuses_replays():
    receiver = readme_receiver()
    secret, body, now = receiver["SECRET"].decode(), b'{"id":"evt_1"}', time.time()
    assert receiver["verify"](signing.header(secret, int(now), body), body, now)
    assert not receiver["verify"](signing.header(secret, int(now), body), body + b" ", now)  # tampered
    assert not receiver["verify"](signing.header("another secret, long enough", int(now), body), body, now)
    assert not receiver["verify"](signing.header(secret, int(now) - 301, body), body, now)  # a replay
    assert receiver["verify"](signing.header(secret, int(now) - 299, body), body, now)
    assert not receiver["verify"]("t=soon,v1=00", body, now) and not receiver["verify"]("", body, now)


def test_the_readme_receiver_takes_real_deliveries_once(app, client, org, capsys):
    from tariff.storage.webhooks import Dispatcher, Settings
    receiver = readme_receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver["Hooks"])
    server.RequestHandlerClass.log_message = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = client.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{server.server_address[1]}/",
                                                 "secret": receiver["SECRET"].decode()}).get_json()
        spend(app, "a")
        dispatcher = Dispatcher(ledger(app).db, Settings(first_retry_s=0.05, max_retry_s=0.1))
        url = f"/v1/webhooks/{hook['id']}/deliveries"
        [delivery] = client.get(url).get_json()["items"]

        def delivered(attempts):
            deadline = time.monotonic() + WAIT_S
            while (client.get(url).get_json()["items"][0]["status"], client.get(url).get_json()["items"][0]
                   ["attempts"]) != ("delivered", attempts):
                assert time.monotonic() < deadline
                dispatcher.run_once() or time.sleep(0.02)
        delivered(1)
        client.post(f"{url}/{delivery['id']}/retry")  # sent again: the receiver drops the repeat
        delivered(2)
        assert receiver["seen"] == {delivery["event"]["id"]}
        assert capsys.readouterr().out.count("notification.spend_threshold acme") == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_refusing_private_targets_says_so_naming_url(make_app):
    client = make_app(WEBHOOKS_PRIVATE_TARGETS="refuse").test_client()
    response = register(client, url="http://127.0.0.1:9/hooks")
    assert response.status_code == 422 and "public addresses only" in response.get_json()["errors"]["url"][0]
    assert register(client, url="https://93.184.216.34/hooks").status_code == 201
