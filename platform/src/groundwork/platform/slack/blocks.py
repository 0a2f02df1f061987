"""Block Kit messages of the bot: the verified answer with its sources (title, link, a quoted line), the "not
found in your documents" reply with the closest sources, feedback buttons, and the short notes around them.

Everything from documents or users is escaped for Slack's mrkdwn (`&`, `<`, `>`), so a document can neither
ping a channel (`<!channel>`) nor smuggle a link; links are made only of http(s) source URIs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from groundwork.platform.answers.types import AnswerResult, Citation, ClaimResult
from groundwork.platform.search import SearchHit

Block = dict[str, Any]

FEEDBACK_UP = "groundwork_feedback_up"
FEEDBACK_DOWN = "groundwork_feedback_down"
NOT_FOUND = "Not found in your documents."
PROGRESS = "Searching your documents…"
CHECKING = "Verified against the sources so far; checking the rest…"
SECTION_LIMIT = 3000
"""Slack's limit on a section's text."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Rendered:
    """A message: `text` is the plain fallback (notifications, screen readers), `blocks` what Slack shows."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """Text shown as mrkdwn, with no control sequences: `<!channel>`, `<@U…>`, `<url|label>` become plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(title: str, uri: str) -> str:
    label = escape(title or uri).replace("|", "¦")
    if re.match(r"^https?://[^\s<>|]+$", uri):
        return f"<{uri}|{label}>"
    return f"{label} (`{escape(uri).replace('`', 'ʼ')}`)" if uri else label


def _sections(text: str) -> list[Block]:
    """`text` in sections of at most Slack's limit, cut between sentences where possible."""
    blocks: list[Block] = []
    rest = text
    while rest:
        piece = rest[:SECTION_LIMIT]
        if len(rest) > SECTION_LIMIT:
            cut = max(piece.rfind(". "), piece.rfind("\n"))
            piece = piece[: cut + 1] if cut > SECTION_LIMIT // 2 else piece
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
        rest = rest[len(piece) :].lstrip()
    return blocks


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def quoted_line(citation: Citation, claims: Sequence[ClaimResult], max_chars: int) -> str:
    """The sentence of the cited passage that shares the most words with the claims citing it (the passage's
    first sentence if none do), shortened to `max_chars`."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(citation.quote.split())) if s.strip()]
    if not sentences:
        return ""
    claim_words = set()
    for claim in claims:
        if citation.number in claim.citations:
            claim_words |= set(_WORD.findall(claim.text.lower()))
    best = max(sentences, key=lambda s: len(claim_words & set(_WORD.findall(s.lower()))))
    if len(best) <= max_chars:
        return best
    return best[: max_chars - 1].rsplit(" ", 1)[0] + "…"


def _source(citation: Citation, claims: Sequence[ClaimResult], max_chars: int) -> str:
    heading = " › ".join(citation.heading_path[-1:])
    title = citation.title + (f" › {heading}" if heading and heading != citation.title else "")
    line = f"*[{citation.number}]* {_link(title, citation.source_uri)}"
    quote = quoted_line(citation, claims, max_chars)
    return f"{line}\n>{escape(quote)}" if quote else line


def _closest(hits: Iterable[SearchHit], limit: int) -> list[str]:
    seen: set[str] = set()
    lines: list[str] = []
    for hit in hits:
        if hit.document_id in seen:
            continue
        seen.add(hit.document_id)
        lines.append(f"• {_link(hit.title, hit.source_uri)}")
        if len(lines) == limit:
            break
    return lines


def feedback_value(conversation_id: str, message_id: int) -> str:
    return json.dumps({"conversation_id": conversation_id, "message_id": message_id}, separators=(",", ":"))


def _feedback(conversation_id: str, message_id: int | None) -> list[Block]:
    if message_id is None:
        return []
    value = feedback_value(conversation_id, message_id)
    return [
        {
            "type": "actions",
            "block_id": "groundwork_feedback",
            "elements": [
                {
                    "type": "button",
                    "action_id": FEEDBACK_UP,
                    "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True},
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": FEEDBACK_DOWN,
                    "text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True},
                    "value": value,
                },
            ],
        }
    ]


def answer_message(
    result: AnswerResult,
    *,
    notices: Sequence[str] = (),
    preface: str | None = None,
    max_sources: int = 5,
    quote_chars: int = 200,
) -> Rendered:
    """The reply to a question: the verified answer and its sources, or "not found" with the closest sources;
    `notices` (e.g. which documents the audience allowed) and the answer's own notice under it; feedback.
    `preface` is mrkdwn shown above the answer (`asked_by`)."""
    blocks: list[Block] = []
    if preface:
        blocks.append(_context(preface))
    notes = [n for n in (*notices, result.notice) if n]
    if result.refused:
        text = f"{NOT_FOUND} {result.answer}"
        blocks += _sections(f"*{escape(NOT_FOUND)}* {escape(result.answer)}")
        closest = _closest(result.retrieved, max_sources)
        if closest:
            blocks += _sections("*Closest sources:*\n" + "\n".join(closest))
    else:
        text = result.answer
        blocks += _sections(escape(result.answer))
        sources = [_source(c, result.claims, quote_chars) for c in result.citations[:max_sources]]
        if sources:
            blocks.append({"type": "divider"})
            blocks += _sections("*Sources*\n" + "\n".join(sources))
    if notes:
        blocks.append(_context(escape(" ".join(notes))))
    blocks += _feedback(result.conversation_id, result.message_id)
    return Rendered(text=text, blocks=blocks)


def asked_by(user_id: str, question: str) -> str:
    """`@user asked: question`, for an answer posted in the channel by `/ask --public`."""
    mention = f"<@{user_id}>" if re.fullmatch(r"[A-Z0-9]+", user_id) else escape(user_id)
    return f"{mention} asked: {escape(question)}"


def note_message(text: str) -> Rendered:
    """A short reply without an answer (no documents may be used here, the bot is busy, an error)."""
    return Rendered(text=text, blocks=_sections(escape(text)))


def progress_message(partial: str = "") -> Rendered:
    """ "Searching your documents…", or the statements verified so far (`partial`) while the rest is checked."""
    if not partial:
        return Rendered(text=PROGRESS, blocks=[_context(f":hourglass_flowing_sand: {PROGRESS}")])
    return Rendered(
        text=partial, blocks=[*_sections(escape(partial)), _context(f":hourglass_flowing_sand: {CHECKING}")]
    )
