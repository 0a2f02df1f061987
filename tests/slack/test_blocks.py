"""The messages the bot renders and the questions it reads, on their own: escaping (a document cannot ping a
channel or smuggle a link), section limits, the quoted line, "not found" with the closest sources."""

from __future__ import annotations

import json
from typing import Any

from groundwork.platform.answers.types import AnswerResult, Citation, ClaimResult
from groundwork.platform.search import SearchHit
from groundwork.platform.slack.blocks import SECTION_LIMIT, answer_message, asked_by, quoted_line
from groundwork.platform.slack.events import from_command, from_mention, from_message
from groundwork.platform.slack.questions import parse_ask, question_text

HOSTILE = "Ping <!channel> and <@U999> now, or <https://evil.example|click here> & win."


def citation(number: int, quote: str, *, title: str = "Runbook", uri: str = "https://docs.example/runbook") -> Citation:
    return Citation(number, number, f"doc{number}", "ds1", title, uri, 0, len(quote), None, [title, "Backups"], quote)


def hit(document_id: str, title: str, uri: str) -> SearchHit:
    return SearchHit(1, 0.5, "text", document_id, "ds", title, uri, [], 0, 4, None, {}, 1, 1, 0.5)


def result(
    answer: str,
    citations: list[Citation],
    claims: list[ClaimResult],
    *,
    refused: bool = False,
    retrieved: list[SearchHit] | None = None,
    message_id: int | None = 7,
) -> AnswerResult:
    return AnswerResult(
        answer=answer,
        citations=citations,
        claims=claims,
        refused=refused,
        mode="refusal" if refused else "extractive",
        retrieved=retrieved or [],
        conversation_id="c1",
        standalone_query=answer,
        timings_ms={},
        notice=None,
        message_id=message_id,
    )


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_document_text_cannot_ping_or_link() -> None:
    hostile = citation(1, HOSTILE, title="<!here> title", uri="javascript:alert(1)")
    rendered = answer_message(result(f"{HOSTILE} [1]", [hostile], [ClaimResult(HOSTILE, [1], True, 1.0)]))
    text = all_text(rendered.blocks)
    for raw in ("<!channel>", "<@U999>", "<https://evil", "<!here>", "<javascript"):
        assert raw not in text
    assert "&lt;!channel&gt;" in text and "&amp; win" in text


def test_sources_link_http_uris_and_quote_the_sentence_the_claims_rely_on() -> None:
    quote = "Backups run nightly. They are kept for 30 days in the backups bucket. Restores take an hour."
    claim = ClaimResult("Backups are kept for 30 days [1].", [1], True, 1.0)
    rendered = answer_message(result("Backups are kept for 30 days [1].", [citation(1, quote)], [claim]))
    sources = next(
        b["text"]["text"] for b in rendered.blocks if b["type"] == "section" and "*Sources*" in b["text"]["text"]
    )
    assert "<https://docs.example/runbook|Runbook › Backups>" in sources
    assert ">They are kept for 30 days in the backups bucket." in sources
    local = answer_message(result("x [1].", [citation(1, quote, uri="upload://runbook.md")], [claim]))
    assert "Runbook › Backups (`upload://runbook.md`)" in all_text(local.blocks)


def test_a_quoted_line_is_shortened_to_the_limit() -> None:
    long = "word " * 200 + "end."
    line = quoted_line(citation(1, long), [], 60)
    assert len(line) <= 60 and line.endswith("…")


def test_long_answers_are_split_into_sections_within_slacks_limit() -> None:
    answer = " ".join(f"Sentence number {i} says something about backups." for i in range(300))
    rendered = answer_message(result(answer, [], []))
    sections = [b["text"]["text"] for b in rendered.blocks if b["type"] == "section"]
    assert len(sections) > 1 and all(len(s) <= SECTION_LIMIT for s in sections)
    assert " ".join(sections).replace("  ", " ").startswith("Sentence number 0") and "number 299" in sections[-1]


def test_a_refusal_lists_each_closest_document_once() -> None:
    hits = [hit("d1", "Runbook", "https://a"), hit("d1", "Runbook", "https://a"), hit("d2", "FAQ", "upload://faq.md")]
    rendered = answer_message(
        result("The documents don't answer this question.", [], [], refused=True, retrieved=hits), max_sources=5
    )
    text = all_text(rendered.blocks)
    assert rendered.text.startswith("Not found in your documents.")
    assert text.count("Runbook") == 1 and "FAQ" in text and "Sources*" not in text


def test_feedback_buttons_need_a_stored_message() -> None:
    assert "actions" in all_text(answer_message(result("a [1].", [], [])).blocks)
    assert "actions" not in all_text(answer_message(result("a [1].", [], [], message_id=None)).blocks)


def test_asked_by_mentions_the_asker_and_escapes_the_question() -> None:
    assert asked_by("UANA", "is <!channel> safe?") == "<@UANA> asked: is &lt;!channel&gt; safe?"


def test_questions_are_read_without_the_bots_mention() -> None:
    assert question_text("<@UBOT> how do  we &lt;restore&gt;?", "UBOT") == "how do we <restore>?"
    assert question_text("<@UOTHER> said <@UBOT|groundwork> hi", "UBOT") == "<@UOTHER> said hi"
    assert parse_ask("--public where is it?").visibility == "in_channel"
    assert parse_ask("-p where is it?").visibility == "ephemeral"
    assert parse_ask("where is it?").visibility is None and parse_ask("where is it?").question == "where is it?"


def test_which_messages_are_questions() -> None:
    body = {"team_id": "T1", "event_id": "Ev1"}
    base = {"type": "message", "user": "U1", "ts": "1.1", "channel": "C1", "channel_type": "channel"}
    assert from_message(body, {**base, "text": "what now?"}, "UBOT") is not None
    assert from_message(body, {**base, "text": "no question"}, "UBOT") is None
    assert from_message(body, {**base, "text": "<@UBOT> what now?"}, "UBOT") is None, "app_mention answers it"
    assert from_message(body, {**base, "text": "what?", "subtype": "message_changed"}, "UBOT") is None
    assert from_message(body, {**base, "text": "what?", "bot_id": "B1"}, "UBOT") is None
    direct = from_message(body, {**base, "channel": "D1", "channel_type": "im", "text": "hello"}, "UBOT")
    assert direct is not None and direct[0].is_direct and direct[1] is False
    assert (
        from_mention(
            body, {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "ts": "1.1", "channel": "D1"}, "UBOT"
        )
        is None
    )
    in_thread = from_mention(
        body,
        {"type": "app_mention", "user": "U1", "text": "hi", "ts": "2.2", "thread_ts": "1.1", "channel": "C1"},
        "UBOT",
    )
    assert in_thread is not None and in_thread.thread_ts == "1.1"
    command = from_command(
        {"team_id": "T1", "channel_id": "D5", "user_id": "U1", "text": "x?", "response_url": "http://r"}, "ephemeral"
    )
    assert command.read_by_asker_only and command.response_url == "http://r"
    empty = from_command({"team_id": "T1", "channel_id": "C5", "user_id": "U1", "text": "--public "}, "in_channel")
    assert empty.visibility == "ephemeral", "the help for an empty /ask goes to the asker only"
