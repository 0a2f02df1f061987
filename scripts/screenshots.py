"""Regenerate the chat UI's screenshots in docs/screenshots/ (docs/ui.md shows them). Not run in CI.

    .venv/bin/python scripts/screenshots.py

Serves the platform on a temporary data directory with the UI tests' stand-in model (tests/ui/harness.py), which
quotes its sources and adds one sentence no source supports (so the verifier's work shows), then drives Debian's
Chromium through the main states.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from tests.platform.test_answers_api import RUNBOOK  # noqa: E402
from tests.ui.harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEPLOY,
    ModelStandIn,
    Site,
    ask,
    create_datastore,
    serve,
    sign_in,
    upload,
)

from groundwork.platform.config import GenerationConfig, Settings  # noqa: E402
from groundwork.serving.testing import Messages, repeat_sources  # noqa: E402

OUT = REPO / "docs" / "screenshots"
QUESTION = "When is the metadata database backed up, and how long are backups kept?"


def answer_with_a_slip(messages: Messages) -> str:
    return f"{repeat_sources(messages)} Backups are also copied to a second region every hour [1]."


def desktop(browser: Browser, site: Site, scheme: str = "light") -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=site.url, color_scheme=scheme, device_scale_factor=1
    )
    return context.new_page()


def shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(300)  # transitions settle
    page.screenshot(path=str(OUT / name))
    logging.info("wrote docs/screenshots/%s", name)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    model = ModelStandIn(answer_with_a_slip)
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data), generation=GenerationConfig(backend="remote", base_url=model.url))
        with serve(settings) as site, sync_playwright() as playwright:
            site.services().generation.wait_ready(30)
            create_datastore(site.api, "ops")
            upload(site.api, "ops", "runbook.md", RUNBOOK)
            upload(site.api, "ops", "deploy.md", DEPLOY)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)

            page = desktop(browser, site)
            sign_in(page, site.admin_key)
            model.delay, model.chunk_chars = 0.15, 6
            page.get_by_label("Ask a question").fill(QUESTION)
            page.get_by_label("Ask a question").press("Enter")
            expect(page.locator('.message.assistant[aria-busy="true"] .answer-body')).to_contain_text("02:00")
            shoot(page, "streaming.png")
            expect(page.locator(".message.assistant")).to_have_attribute("aria-busy", "false", timeout=120_000)
            model.delay, model.chunk_chars = 0.02, 8
            page.locator("details.removed summary").click()
            shoot(page, "chat-answer.png")
            page.locator(".answer-body .cite").first.click()
            expect(page.locator("#source-panel mark")).to_be_visible()
            shoot(page, "source-preview.png")
            page.keyboard.press("Escape")
            ask(page, "What is the capital of Australia?")
            page.locator(".notfound").scroll_into_view_if_needed()
            shoot(page, "not-found.png")

            page.get_by_role("button", name="Documents").click()
            dialog = page.get_by_role("dialog", name="Documents")
            transfer = page.evaluate_handle(
                """() => {
                  const transfer = new DataTransfer();
                  transfer.items.add(new File(['# On-call\\n\\nPages are acknowledged within 5 minutes.'],
                                              'on-call.md', { type: 'text/markdown' }));
                  transfer.items.add(new File(['%PDF-1.4 not a PDF'], 'scan.pdf', { type: 'application/pdf' }));
                  return transfer;
                }"""
            )
            dialog.locator(".dropzone").dispatch_event("drop", {"dataTransfer": transfer})
            expect(dialog.locator('.upload[data-status="indexed"]')).to_have_count(1)
            expect(dialog.locator('.upload[data-status="failed"]')).to_have_count(1)
            shoot(page, "upload-progress.png")

            night = desktop(browser, site, "dark")
            sign_in(night, site.admin_key)
            ask(night, QUESTION)
            night.locator(".answer-body .cite").first.hover()
            expect(night.locator("#source-popover mark")).to_be_visible()
            shoot(night, "dark.png")

            phone_context = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, base_url=site.url
            )
            phone = phone_context.new_page()
            sign_in(phone, site.admin_key)
            ask(phone, QUESTION)
            shoot(phone, "phone.png")
            browser.close()
    model.close()


if __name__ == "__main__":
    main()
