"""The console in a real browser: Debian's chromium, driven headless by
Playwright for Python (never Playwright's own browser download).

One server and one browser for the session: the app over a temporary SQLite
ledger, served by werkzeug on 127.0.0.1 (a free port) in a thread, with
example organizations written through the ledger and one admin key. People
sign in through the form: owners and members with that key, which the page
trades for a member session (the API then acts as that member and nobody
else); billing staff with the key itself.

Chromium missing: the tests skip on a developer's machine, and fail in CI
(CI or TARIFF_REQUIRE_POSTGRES set), where .ci/run installs it.

Screenshots of each page go to a temporary directory, and also to
TARIFF_SCREENSHOTS_DIR when it is set (the README's come from there).
"""
from __future__ import annotations

import os
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
OPUS = "claude-opus-4-6"  # 5 USD per million input tokens


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("TARIFF_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        if _required():
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (.ci/run installs chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def seed(app) -> None:
    """Three organizations: self-serve with a blocked member, sales-assisted,
    seat-based. Written through a ledger over the app's database whose clock
    is set back to the first of this month, so usage spreads over its days."""
    from tariff.storage import Database, Ledger
    now = datetime.now(timezone.utc)
    first = now.replace(day=1, hour=0, minute=0, second=1, microsecond=0)
    clock = [first]
    ledger = Ledger(Database(app.config["DATABASE_URL"]), app.extensions["tariff"].policies.active().evaluator,
                    clock=lambda: clock[0])
    term = date(now.year, 1, 1) if now.month > 1 else date(now.year - 1, 12, 1)
    last_month = (first - timedelta(days=1)).replace(day=1)

    def use(org, key, member, tokens, days_ago, model=OPUS, product="chat"):
        clock[0] = max(first, min(now, now.replace(hour=0, minute=30) - timedelta(days=days_ago)))
        ledger.record_usage(org, idempotency_key=key, member=member, product=product, model=model,
                            tokens={"input": tokens})

    ledger.create_organization(id="acme", name="Acme Robotics", plan="enterprise_self_serve", term_start=term,
                               seats={"enterprise": 5}, primary_owner={"id": "pat", "name": "Pat Owner"})
    ledger.add_member("acme", actor="pat", id="ana", name="Ana Lima")
    ledger.add_member("acme", actor="pat", id="ben", name="Ben Okafor")
    ledger.purchase_credits("acme", actor="pat", amount=Decimal("100"))
    ledger.set_limit("acme", actor="pat", level="organization", limit=Decimal("500"))
    ledger.set_limit("acme", actor="pat", level="individual", subject="ana", limit=Decimal("5"))

    # Globex is billed in arrears: last month's usage is on an issued invoice, a line per member.
    clock[0] = last_month
    ledger.create_organization(id="globex", name="Globex", plan="enterprise_sales_assisted",
                               term_start=min(term, last_month.date()), seats={"enterprise": 3},
                               primary_owner={"id": "gina", "name": "Gina Park"})
    ledger.add_member("globex", actor="gina", id="hal", name="Hal Kim")
    clock[0] = last_month + timedelta(days=3)
    for key, member, tokens in (("g0", "hal", 3_000_000), ("g00", "gina", 1_000_000)):
        ledger.record_usage("globex", idempotency_key=key, member=member, product="chat", model=OPUS,
                            tokens={"input": tokens})
    clock[0] = first
    ledger.run_billing("globex", first.date())

    ledger.create_organization(id="initech", name="Initech", plan="seat_based", channel="sales_assisted",
                               term_start=term, seats={"standard": 2, "premium": 1},
                               primary_owner={"id": "ines", "seat_type": "premium"})
    ledger.add_member("initech", actor="ines", id="joe", seat_type="standard")

    use("acme", "a1", "ana", 600_000, 1)   # 3 USD
    use("acme", "b1", "ben", 400_000, 1)   # 2 USD
    use("acme", "a2", "ana", 400_000, 0)   # 2 USD: ana is at her 5 USD limit
    use("globex", "g1", "hal", 2_000_000, 1)
    use("initech", "i1", "joe", 1_000_000, 0)
    ledger.db.dispose()


def admin_key(url: str) -> str:
    from tariff.storage import Database
    from tariff.storage import keys
    db = Database(url)
    _, secret = keys.create(db, "admin", name="console tests")
    db.dispose()
    return secret


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The console's base URL."""
    from werkzeug.serving import make_server

    from tariff.api import create_app
    home = tmp_path_factory.mktemp("console")
    app = create_app({"POLICIES_DIR": str(ROOT / "policies"), "FIXTURES_DIR": str(ROOT / "fixtures"),
                      "STATE_DIR": str(home / "state"), "DECISION_LOG": "off",
                      "DATABASE_URL": f"sqlite:///{home / 'ledger.sqlite3'}"})
    seed(app)
    key = admin_key(app.config["DATABASE_URL"])
    httpd = make_server("127.0.0.1", 0, app)  # one request at a time, as `tariff serve`'s sync workers
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}", "key": key}
    httpd.shutdown()
    thread.join(5)


@pytest.fixture
def page(chromium, server):
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, base_url=server["url"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def shots(tmp_path_factory):
    """``shots(page, name)``: a full-page screenshot kept for the run (and the README)."""
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("TARIFF_SCREENSHOTS_DIR"):
        folders.append(Path(os.environ["TARIFF_SCREENSHOTS_DIR"]))

    def take(page, name: str) -> None:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    return take


@pytest.fixture
def sign_in(page, server):
    """``sign_in("acme", "pat", lang="de")``: through the sign-in form, with the admin key."""
    def go(org: str, member: str, lang: str = "en", to: str = "usage"):
        page.goto(f"/console?lang={lang}")
        page.locator("#org").fill(org)
        page.locator("#member").fill(member)
        page.locator("#key").fill(server["key"])
        page.locator(f"button[value={to}]").click()
        if to == "usage":
            page.wait_for_url(f"**/console/organizations/{org}?lang={lang}")
            page.locator("#page").wait_for(state="visible")
        else:
            page.wait_for_url(f"**/console/workbench?lang={lang}")
            page.locator("#page-status").wait_for(state="hidden")  # everything loaded
    return go
