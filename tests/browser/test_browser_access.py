"""Usable by everyone: every form control has a label, the landmarks and
headings are there, the keyboard reaches the content first through the skip
link, and a narrow screen scrolls only inside tables, never the page."""
from __future__ import annotations

from playwright.sync_api import expect

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.id || e.name || e.outerHTML.slice(0, 60))"""
WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_pages_have_labels_landmarks_and_a_skip_link(page, sign_in):
    sign_in("acme", "pat", lang="ru")
    for path in (None, "/console/workbench?lang=ru", "/console?lang=ru"):
        if path:
            page.goto(path)
        if path and "workbench" in path:
            page.locator("#page-status").wait_for(state="hidden")  # its forms are filled in
        assert page.evaluate(UNLABELLED) == []
        expect(page.locator("header")).to_have_count(1)
        expect(page.locator("nav")).to_have_count(1)
        expect(page.locator("main#main")).to_have_count(1)
        expect(page.locator("h1")).to_have_count(1)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_a_narrow_screen_scrolls_only_inside_tables(chromium, server, shots):
    context = chromium.new_context(viewport={"width": 360, "height": 780}, base_url=server["url"])
    page = context.new_page()
    try:
        page.goto("/console?lang=id")
        page.locator("#org").fill("acme")
        page.locator("#member").fill("ana")
        page.locator("#key").fill(server["key"])
        page.locator("button[value=usage]").click()
        page.locator("#page").wait_for(state="visible")
        expect(page.locator("#members tr[data-member=ana]")).to_contain_text("Diblokir")
        assert page.evaluate(WIDER_THAN_SCREEN) <= 0
        shots(page, "usage-narrow-id")
    finally:
        context.close()
