"""The console in chromium: an owner's usage page (members' spend, a blocked
member's reason, buying credits, setting a limit), a member refused by the
policy, and the billing-staff workbench (a playground decision, a what-if
replay of the ledger), each page in two languages."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def balance(page) -> str:
    return page.locator("#credit-balance").inner_text()


def test_owner_sees_spend_and_a_blocked_members_reason_buys_credits_and_sets_a_limit(page, sign_in, shots):
    sign_in("acme", "pat")
    expect(page.locator("h1")).to_contain_text("Acme Robotics")
    ana = page.locator("#members tr[data-member=ana]")
    expect(ana.locator("td").nth(2)).to_have_text("$5.00")
    expect(ana).to_contain_text("Blocked")
    # The policy's own reason, rendered by the API (individual_limit_reached).
    expect(ana.locator(".why .reason")).to_contain_text("limit")
    expect(page.locator("#members tr[data-member=ben] td").nth(2)).to_have_text("$2.00")
    expect(page.locator("#projection")).to_contain_text("At this rate, spend reaches")
    expect(page.locator("#chart svg rect.bar").first).to_be_attached()
    expect(page.locator("#credit-balance")).to_have_text("$93.00")  # 100 bought, 7 used
    shots(page, "usage-en")

    page.get_by_label("Amount (USD)").fill("50")
    page.get_by_role("button", name="Buy", exact=True).click()
    expect(page.locator("#buy-credits .ok")).to_contain_text("$143.00")
    expect(page.locator("#credit-balance")).to_have_text("$143.00")

    # ben gets a limit of his own (ana stays blocked for the other tests).
    page.get_by_label("Level").select_option("individual")
    page.get_by_label("Applies to").select_option("ben")
    page.get_by_label(re.compile("^Limit \\(USD")).fill("20")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#set-limit .ok")).to_have_text("The limit is saved.")
    ben = page.locator("#members tr[data-member=ben]")
    expect(ben.locator("td").nth(4)).to_have_text("$20.00")
    expect(ben).to_contain_text("Binding: the individual limit, $18.00 left")


def test_the_usage_page_in_german(page, sign_in, shots):
    sign_in("acme", "pat", lang="de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_contain_text("Nutzung")
    expect(page.locator("#h-members")).to_have_text("Mitglieder")
    # Amounts in German: decimal comma, the sign after the amount.
    expect(page.locator("#members tr[data-member=ben] td").nth(2)).to_have_text(re.compile(r"^2,00\s\$$"))
    expect(page.locator("#members tr[data-member=ana]")).to_contain_text("Gesperrt")
    expect(page.locator("#members tr[data-member=ana] .why .reason")).to_contain_text("Ausgabengrenze")
    shots(page, "usage-de")


def test_a_member_sees_the_page_read_only_and_is_refused_in_their_language(page, sign_in, shots):
    sign_in("acme", "ben", lang="fr")
    expect(page.locator("#read-only")).to_be_visible()
    before = balance(page)
    page.get_by_label("Montant (USD)").fill("10")
    page.get_by_role("button", name="Acheter").click()
    refusal = page.locator("#buy-credits .problem")
    expect(refusal).to_contain_text("Refusé")
    expect(refusal.locator(".reason")).not_to_be_empty()
    assert re.search(r"propriétaire", refusal.inner_text(), re.I), refusal.inner_text()
    assert balance(page) == before
    shots(page, "usage-member-fr")


def test_a_seat_based_organization_sees_its_seat_types_and_extra_usage(page, sign_in, shots):
    sign_in("initech", "ines")
    expect(page.locator("#seats")).to_be_visible()
    expect(page.locator("#seat-table")).to_contain_text("standard")
    expect(page.locator("#seat-table")).to_contain_text("premium")
    expect(page.locator("#extra-usage")).to_contain_text("Extra usage")
    shots(page, "usage-seat-based-en")


def test_a_sales_assisted_owner_opens_last_months_invoice_with_a_line_per_member(page, sign_in, shots):
    sign_in("globex", "gina")
    row = page.locator("#history tbody tr").first
    expect(row).to_contain_text("$20.00")  # 3M + 1M opus input tokens last month
    row.get_by_role("button").click()
    lines = page.locator("#invoice-lines")
    expect(lines.locator("tbody tr", has_text="hal")).to_contain_text("$15.00")
    expect(lines.locator("tbody tr", has_text="gina")).to_contain_text("$5.00")
    expect(lines.locator("tfoot")).to_contain_text("$")
    shots(page, "usage-invoice-en")


def test_billing_staff_run_a_playground_decision_and_a_what_if_replay(page, sign_in, shots):
    sign_in("", "", to="workbench")
    expect(page.locator("#plans details")).to_have_count(4)
    expect(page.locator("#plans a[href*='billing-rules']").first).to_be_attached()
    expect(page.locator("#rates")).to_contain_text("claude-opus-4-6")

    page.locator("#f-plan").select_option("enterprise_self_serve")
    page.locator("#f-spend").fill("120")
    page.locator("#f-limit").fill("100")
    page.get_by_role("button", name="Write the request").click()
    page.get_by_role("button", name="Decide").click()
    decision = page.locator("#decision")
    expect(decision.locator(".outcome")).to_contain_text("block")
    expect(decision).to_contain_text("monthly spend limit")
    expect(decision.locator("table.trace td code").first).to_have_text(re.compile(r"rules/.+\.yaml:\d+:\d+$"))

    page.locator("#wi-path").fill("rate_card.yaml")
    page.get_by_role("button", name="Load the served text").click()
    expect(page.locator("#wi-text")).to_have_value(re.compile("rate_card:"))
    served = page.locator("#wi-text").input_value()
    page.locator("#wi-text").fill(served.replace("{input: 5, output: 25,", "{input: 6, output: 25,"))
    page.get_by_role("button", name="Replay").click()
    table = page.locator("#what-if-table")
    # acme used 1.4M opus input tokens: 1 USD more per million is +1.40 USD.
    expect(table.locator("tbody tr", has_text="acme")).to_contain_text("+$1.40")
    page.get_by_role("button", name="Run the fixtures").click()
    expect(page.locator("#fixtures")).to_have_text(re.compile(r"^[1-9][0-9,]* passed, 0 failed"))
    expect(page.locator("#plans summary").first).to_contain_text(re.compile(r"\d+ rules"))
    shots(page, "workbench-en")


def test_the_workbench_and_the_sign_in_page_in_italian(page, sign_in, shots):
    page.goto("/console?lang=it")
    expect(page.locator("h1")).to_have_text("Accedi")
    shots(page, "sign-in-it")
    sign_in("", "", lang="it", to="workbench")
    expect(page.locator("h1")).to_have_text("Banco di lavoro")
    expect(page.locator("#h-plans")).to_have_text("Piani e regole")
    page.get_by_role("button", name="Decidi").click()
    expect(page.locator("#decision .outcome")).to_contain_text("Esito")
    shots(page, "workbench-it")
    page.goto("/console/billing-rules?lang=it")
    expect(page.locator("#S3")).to_be_attached()
