"""The chat in a real browser (Debian's Chromium driven by Playwright) against the platform over HTTP, with a
stand-in model that streams what each test needs (see harness.py)."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, expect

from groundwork.serving.testing import repeat_sources

from .harness import CLAIM_WATCH, ModelStandIn, Site, ask, shown_texts, sign_in

UNSUPPORTED = "Backups are encrypted with the AES-512 cipher and copied to the Moon [1]."


def answers(page: Page) -> Any:
    return page.locator(".message.assistant")


def test_only_verified_claims_ever_show_and_they_show_while_the_answer_streams(
    page: Page, site: Site, model: ModelStandIn
) -> None:
    # The unsupported sentence comes first: a draft would show it for seconds; the verified stream never does.
    model.reply = lambda messages: f"{UNSUPPORTED} {repeat_sources(messages)}"
    model.delay = 0.05
    sign_in(page, site.admin_key)
    page.evaluate(CLAIM_WATCH)
    page.get_by_label("Ask a question").fill("When is the metadata database backed up?")
    page.get_by_role("button", name="Send").click()
    answer = answers(page).first
    expect(answer.locator(".answer-body .cite").first).to_be_visible()
    expect(answer).to_have_attribute("aria-busy", "true")  # a verified claim, with its chip, before the end
    expect(answer.locator(".answer-body")).to_contain_text("metadata database")
    expect(answer).to_have_attribute("aria-busy", "false", timeout=60_000)
    body = answer.locator(".answer-body")
    expect(body).to_contain_text("02:00 UTC")
    expect(answer.locator(".badge")).to_have_text("Verified against the sources")
    removed = answer.locator("details.removed")
    expect(removed.locator("summary")).to_have_text(
        "1 statement could not be verified against the sources and was removed"
    )
    removed.locator("summary").click()
    expect(removed).to_contain_text("AES-512")
    shown = shown_texts(page)
    assert any(s["busy"] for s in shown), "claims were shown while the answer was still streaming"
    unsupported = [q.inner_text() for q in removed.locator("q").all()]
    leaked = [s for s in shown for claim in unsupported if claim.removesuffix(".")[:40] in s["text"]]
    assert not leaked, f"a claim the answer marks unsupported was shown: {leaked}"
    streamed = [s["text"] for s in shown if s["busy"]]
    assert streamed[0].strip()[:30] in body.inner_text(), "what streamed is what the final answer says"
    markers = {b.inner_text() for b in answer.locator(".answer-body .cite").all()}
    listed = {li.get_attribute("value") for li in answer.locator(".sources li").all()}
    assert markers and markers <= listed, (markers, listed)


def test_a_citation_previews_its_passage_on_hover_and_opens_it_on_click(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    ask(page, "When is the metadata database backed up?")
    marker = answers(page).first.locator(".answer-body .cite").first
    marker.hover()
    popover = page.locator("#source-popover")
    expect(popover).to_be_visible()
    expect(popover.locator("mark.source-passage")).to_contain_text("02:00 UTC")
    page.mouse.move(0, 0)
    expect(popover).to_be_hidden()

    marker.click()
    panel = page.locator("#source-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".source-title")).to_have_text("Database operations")
    expect(panel.locator(".source-path")).to_have_text("Backups")
    passage = panel.locator("mark.source-passage")
    expect(passage).to_contain_text("The metadata database is backed up every night at 02:00 UTC")
    quote = panel.locator(".source-text").inner_text()
    assert len(quote) > len(passage.inner_text()) + 20, "the passage is shown within its surrounding text"
    assert "To restore a backup" in quote
    expect(panel.locator(".source-uri")).to_have_text("upload://runbook.md")

    with page.expect_download() as download:
        panel.get_by_role("button", name="Download original").click()
    path = download.value.path()
    assert path is not None and b"02:00 UTC" in path.read_bytes()
    assert download.value.suggested_filename == "runbook.md"

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(marker).to_be_focused()


def test_a_question_the_documents_do_not_answer_says_so_with_the_closest_sources(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    ask(page, "What is the capital of Australia?")
    card = answers(page).first.locator(".notfound")
    expect(card.locator("h3")).to_have_text("Not found in your documents")
    closest = card.locator(".closest button")
    expect(closest.first).to_be_visible()
    assert closest.count() >= 1
    closest.first.click()
    expect(page.locator("#source-panel mark.source-passage")).not_to_be_empty()
    expect(answers(page).first.locator(".feedback")).to_be_visible()


def test_stop_cancels_the_answer_end_to_end(page: Page, site: Site, model: ModelStandIn) -> None:
    model.delay = 0.3  # about a minute for the whole answer
    model.chunk_chars = 4
    sign_in(page, site.admin_key)
    before = len(model.streams)
    page.get_by_label("Ask a question").fill("How do I restore a backup?")
    page.get_by_label("Ask a question").press("Enter")
    answer = answers(page).first
    expect(answer.locator(".message-status")).to_contain_text("Checking each statement")
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    deadline = time.monotonic() + 10
    while len(model.streams) <= before or model.streams[-1].chunks_sent < 3:  # the model is writing
        assert time.monotonic() < deadline, "the model was not asked"
        time.sleep(0.05)
    streams = len(model.streams)
    page.keyboard.press("Escape")
    expect(answer).to_contain_text("Stopped.")
    expect(answer).to_have_attribute("aria-busy", "false")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    record = model.streams[streams - 1]
    deadline = time.monotonic() + 10
    while not record.cut_off:
        assert not record.completed, "the model was left to finish the answer"
        assert time.monotonic() < deadline, "the platform kept the model's request open after Stop"
        time.sleep(0.1)


def test_enter_sends_and_shift_enter_starts_a_new_line(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    box = page.get_by_label("Ask a question")
    box.fill("When is the metadata database")
    box.press("Shift+Enter")
    box.press_sequentially("backed up?")
    assert box.input_value() == "When is the metadata database\nbacked up?"
    with page.expect_request("**/v1/answer") as sent:
        box.press("Enter")
    assert sent.value.post_data_json["question"] == "When is the metadata database\nbacked up?"
    expect(box).to_have_value("")


def test_follow_ups_continue_the_conversation_which_can_be_renamed_reopened_and_deleted(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    ask(page, "When is the metadata database backed up?")
    item = page.locator(".conversation.current")
    expect(item).to_contain_text("When is the metadata database backed up?")
    conversation_id = item.get_attribute("data-id")
    with page.expect_request("**/v1/answer") as sent:
        ask(page, "How long are they kept?")
    assert sent.value.post_data_json["conversation_id"] == conversation_id
    stored = site.api.get(f"/v1/conversations/{conversation_id}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]
    assert "backed up" in stored["messages"][2]["standalone_query"]  # the follow-up kept its context

    item.get_by_role("button", name="Rename").click()
    rename = page.get_by_label("New name for the conversation")
    rename.fill("Backup schedule")
    rename.press("Enter")
    expect(page.locator(".conversation.current .conversation-title")).to_have_text("Backup schedule")
    assert site.api.get(f"/v1/conversations/{conversation_id}").json()["title"] == "Backup schedule"

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".empty-state")).to_be_visible()
    page.locator(f'.conversation[data-id="{conversation_id}"] .conversation-open').click()
    expect(page.locator(".message.user")).to_have_count(2)
    expect(answers(page).nth(1)).to_contain_text("30 days")
    answers(page).first.locator(".answer-body .cite").first.click()
    expect(page.locator("#source-panel mark.source-passage")).to_contain_text("02:00 UTC")
    page.keyboard.press("Escape")

    page.locator(".conversation.current").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete conversation")
    expect(dialog).to_contain_text("Backup schedule")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(f'.conversation[data-id="{conversation_id}"]')).to_have_count(0)
    expect(page.locator(".empty-state")).to_be_visible()
    assert site.api.get(f"/v1/conversations/{conversation_id}").status_code == 404


def test_feedback_with_a_comment_is_stored(page: Page, site: Site) -> None:
    sign_in(page, site.admin_key)
    ask(page, "How long does a restore of a 10 GB database take?")
    answer = answers(page).first
    answer.get_by_role("button", name="Not helpful").click()
    expect(answer.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "false")
    answer.get_by_label("Add a comment").fill("It should say how to check the restore worked.")
    answer.get_by_role("button", name="Send comment").click()
    expect(answer.locator(".feedback-status")).to_have_text("Thanks — comment saved")
    conversation_id = page.locator(".conversation.current").get_attribute("data-id")
    messages = site.api.get(f"/v1/conversations/{conversation_id}").json()["messages"]
    assert messages[1]["feedback"] == {"rating": -1, "comment": "It should say how to check the restore worked."}


def test_the_picked_datastores_are_the_ones_asked(page: Page, site: Site) -> None:
    site.api.post("/v1/datastores", json={"name": "empty-one"})
    sign_in(page, site.admin_key)
    page.locator("#picker summary").click()
    boxes = page.locator(".picker-options input")
    expect(boxes).to_have_count(len(site.api.get("/v1/datastores").json()["items"]))
    for box in boxes.all():
        box.uncheck()
    expect(page.locator("#composer-hint")).to_have_text("Pick at least one datastore to ask.")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    page.get_by_label("ops").check()
    page.keyboard.press("Escape")
    ops = next(d["id"] for d in site.api.get("/v1/datastores").json()["items"] if d["name"] == "ops")
    requests: list[Request] = []
    page.on("request", lambda r: requests.append(r) if r.url.endswith("/v1/answer") else None)
    ask(page, "When is the metadata database backed up?")
    assert requests[0].post_data_json["datastore_ids"] == [ops]
    page.reload()
    expect(page.locator(".picker-label")).to_have_text("ops")  # the choice is remembered


def test_code_is_highlighted_and_copied(page: Page, context: BrowserContext, site: Site) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, site.admin_key)
    page.evaluate(
        """async () => {
          const { renderMarkdown } = await import('/ui/src/markdown.js');
          const box = document.createElement('div');
          box.id = 'rendered';
          box.append(renderMarkdown('Run:\\n\\n```python\\ndef port():\\n    return 9090  # default\\n```'));
          document.querySelector('#messages').append(box);
        }"""
    )
    block = page.locator("#rendered .codeblock")
    expect(block.locator(".hljs-keyword").first).to_have_text("def")
    expect(block.locator(".hljs-comment")).to_have_text("# default")
    expect(block.locator(".codeblock-bar")).to_contain_text("python")
    block.get_by_role("button", name="Copy python code").click()
    expect(block.locator(".copy-label")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "def port():\n    return 9090  # default"


def test_unsupported_claims_kept_in_the_answer_are_marked(page: Page, site: Site) -> None:
    """With answers.unsupported_claims=flag the platform keeps them in the answer: the UI marks each one."""
    sign_in(page, site.admin_key)
    page.evaluate(
        """async () => {
          const { renderFinal } = await import('/ui/src/answer.js');
          const body = document.createElement('div');
          const extras = document.createElement('div');
          body.id = 'flagged';
          document.querySelector('#messages').append(body, extras);
          renderFinal(body, extras, {
            answer: 'Backups run at 02:00 UTC [1]. Backups are **copied** to the Moon [1].',
            mode: 'generated', refused: false, notice: null, datastoreIds: [],
            citations: [{ number: 1, title: 'Database operations', heading_path: [], document_id: 'd', chunk_id: 1 }],
            claims: [
              { text: 'Backups run at 02:00 UTC [1].', supported: true, citations: [1], reasons: [] },
              { text: 'Backups are **copied** to the Moon [1].', supported: false, citations: [1], reasons: ['x'] },
            ],
          });
        }"""
    )
    flagged = page.locator("#flagged .claim-unsupported")
    expect(flagged.first).to_contain_text("Backups are")
    assert "".join(flagged.all_inner_texts()).startswith("Backups are copied to the Moon")
    expect(page.locator("#flagged strong")).to_have_text("copied")  # the markdown inside is still rendered
    expect(page.locator("#flagged .visually-hidden")).to_have_text(" (not verified)")
    expect(page.locator("#flagged .cite")).to_have_count(2)
    assert "02:00" not in "".join(flagged.all_inner_texts())
