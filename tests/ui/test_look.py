"""Themes, a phone-sized screen, and accessibility: axe-core (the engine of Lighthouse and most accessibility
checkers) run in the page in each main state, with no serious or critical violation allowed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ..conftest import REPO
from .harness import Site, ask, sign_in

AXE = REPO / "ui" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical violations of WCAG 2.x A/AA and best practices on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate(
        """() => axe.run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
          resultTypes: ['violations'],
        })"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"][:160] for n in v["nodes"][:3]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def background(page: Page) -> str:
    color: str = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return color


@pytest.fixture
def dark(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    created = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=site.url, color_scheme="dark")
    yield created
    created.close()


@pytest.fixture
def phone(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    created = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, base_url=site.url
    )
    yield created
    created.close()


def test_the_theme_follows_the_system_until_toggled(dark: BrowserContext, site: Site) -> None:
    page = dark.new_page()
    sign_in(page, site.admin_key)
    assert background(page) == "rgb(20, 24, 23)"
    page.get_by_role("button", name="Switch to the light theme").click()
    assert background(page) == "rgb(255, 255, 255)"
    page.reload()
    expect(page.get_by_role("button", name="Switch to the dark theme")).to_be_visible()
    assert background(page) == "rgb(255, 255, 255)"  # the choice is kept


def test_the_chat_works_on_a_phone(phone: BrowserContext, site: Site) -> None:
    page = phone.new_page()
    sign_in(page, site.admin_key)
    expect(page.locator("#sidebar")).to_be_hidden()
    ask(page, "When is the metadata database backed up?")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    page.locator(".message.assistant .cite").first.tap()
    panel = page.locator("#source-panel")
    expect(panel.locator("mark.source-passage")).to_contain_text("02:00 UTC")
    assert panel.bounding_box()["width"] == 390  # type: ignore[index]
    page.get_by_role("button", name="Close the source").tap()
    page.get_by_role("button", name="Conversations").tap()
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator(".conversation.current")).to_contain_text("When is the metadata database backed up?")
    page.locator("#sidebar-scrim").tap(position={"x": 370, "y": 400})
    expect(page.locator("#sidebar")).to_be_hidden()
    assert axe_violations(page) == []


def test_no_serious_accessibility_violations_in_the_main_states(page: Page, dark: BrowserContext, site: Site) -> None:
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert axe_violations(page) == [], "sign-in"
    sign_in(page, site.admin_key)
    assert axe_violations(page) == [], "empty chat"
    ask(page, "When is the metadata database backed up?")
    assert axe_violations(page) == [], "answer"
    page.locator(".message.assistant .cite").first.click()
    expect(page.locator("#source-panel mark")).to_be_visible()
    assert axe_violations(page) == [], "source panel"
    page.keyboard.press("Escape")
    ask(page, "What is the capital of Australia?")
    expect(page.locator(".notfound")).to_be_visible()
    assert axe_violations(page) == [], "not found"
    page.get_by_role("button", name="Documents").click()
    documents = page.get_by_role("dialog", name="Documents")
    documents.get_by_label("Datastore", exact=True).select_option(label="ops")
    expect(documents.locator(".document-list table")).to_be_visible()
    assert axe_violations(page) == [], "documents"

    night = dark.new_page()
    sign_in(night, site.admin_key)
    ask(night, "When is the metadata database backed up?")
    night.locator(".message.assistant .cite").first.hover()
    expect(night.locator("#source-popover mark")).to_be_visible()
    assert axe_violations(night) == [], "dark theme"


def test_keyboard_alone_reaches_the_question_box_and_the_sources(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    expect(page.get_by_label("Ask a question")).to_be_focused()
    ask(page, "When is the metadata database backed up?")
    expect(page.get_by_label("Ask a question")).to_be_focused()
    for _ in range(30):  # back from the question box through the answer above it
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    else:
        pytest.fail("the keyboard never reached a citation")
    marker = page.evaluate_handle("document.activeElement")
    expect(page.locator("#source-popover")).to_be_visible()  # focus previews it, like hover
    page.keyboard.press("Enter")
    expect(page.locator("#source-panel-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#source-panel")).to_be_hidden()
    assert page.evaluate("(marker) => marker === document.activeElement", marker), "focus went back to the marker"
