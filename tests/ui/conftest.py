"""Fixtures of the UI tests: one platform (served by uvicorn, with a stand-in model) and one Chromium for the
session; a fresh browser context per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from groundwork.platform.config import GenerationConfig
from groundwork.serving.testing import repeat_sources

from ..conftest import make_settings
from ..platform.test_answers_api import RUNBOOK
from .harness import CHROMIUM, CHROMIUM_ARGS, DEPLOY, ModelStandIn, Site, create_datastore, serve, upload

expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the UI tests drive Debian's Chromium (scripts/setup_ui.sh --dev)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def model() -> Iterator[ModelStandIn]:
    standin = ModelStandIn()
    yield standin
    standin.close()


@pytest.fixture(autouse=True)
def model_defaults(request: pytest.FixtureRequest) -> None:
    """Each test starts with the stand-in quoting its sources, quickly."""
    if "model" in request.fixturenames:
        standin: ModelStandIn = request.getfixturevalue("model")
        standin.reply = repeat_sources
        standin.delay = 0.02
        standin.chunk_chars = 8


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, model: ModelStandIn) -> Iterator[Site]:
    """The platform with the stand-in model and a datastore `ops` of two documents."""
    settings = make_settings(
        tmp_path_factory.mktemp("ui") / "data", generation=GenerationConfig(backend="remote", base_url=model.url)
    )
    with serve(settings) as served:
        assert served.services().generation.wait_ready(30), "the stand-in model was not found healthy"
        create_datastore(served.api, "ops")
        upload(served.api, "ops", "runbook.md", RUNBOOK)
        upload(served.api, "ops", "deploy.md", DEPLOY)
        yield served


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    created = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=site.url)
    yield created
    created.close()


class PageErrors(list[str]):
    """JavaScript errors and console errors of a page (failed loads of refused requests aside)."""


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    errors = PageErrors()
    opened.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    opened.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    opened.errors = errors  # type: ignore[attr-defined]
    yield opened
    assert not errors, f"the page logged {len(errors)} errors, first: {errors[:3]}"
