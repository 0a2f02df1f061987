"""Fit the question and the retrieved passages into the model's context window, whatever their sizes.

Everything is measured in the served model's own tokens. The window is split as: answer tokens reserved,
prompt overhead (instructions, chat template) reserved, the question (cut to at most a quarter of the
window), then passages in rank order until the rest is used (the last one cut to fit, if enough is left).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from groundwork.platform.search import SearchHit

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class ContextBudget:
    context_window: int
    """The model's maximum sequence length (prompt + answer)."""
    answer_tokens: int
    """Reserved for the generated answer."""
    overhead_tokens: int
    """Instructions, chat template and source headers beyond what is counted per passage."""
    min_passage_tokens: int = 48
    """A passage cut shorter than this is left out instead."""


@dataclass(frozen=True)
class Passage:
    number: int
    hit: SearchHit
    text: str
    """The passage as shown to the model (possibly cut at the end)."""


def truncate_to_tokens(text: str, limit: int, count: TokenCounter) -> str:
    """The longest prefix of `text` (cut at a character) with at most `limit` tokens."""
    if limit <= 0:
        return ""
    if count(text) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def fit_context(
    question: str, hits: Sequence[SearchHit], budget: ContextBudget, count: TokenCounter
) -> tuple[str, list[Passage]]:
    """The question (possibly cut) and the passages that fit the budget, numbered from 1."""
    available = budget.context_window - budget.answer_tokens - budget.overhead_tokens
    question = truncate_to_tokens(question, max(16, budget.context_window // 4), count)
    available -= count(question)
    passages: list[Passage] = []
    for hit in hits:
        if available < budget.min_passage_tokens:
            break
        header = source_header(len(passages) + 1, hit)
        framing = count(header) + count(SOURCE_CLOSE) + 2
        cost = framing + count(hit.text)
        text = hit.text
        if cost > available:
            text = truncate_to_tokens(hit.text, available - framing, count)
            if count(text) < budget.min_passage_tokens:
                continue
            cost = framing + count(text)
        passages.append(Passage(number=len(passages) + 1, hit=hit, text=text))
        available -= cost
    return question, passages


def from_top_documents(hits: Sequence[SearchHit], documents: int) -> list[SearchHit]:
    """The hits of the first `documents` documents in retrieval order, in their order (all hits for 0)."""
    if documents <= 0:
        return list(hits)
    chosen: list[str] = []
    for hit in hits:
        if hit.document_id not in chosen and len(chosen) < documents:
            chosen.append(hit.document_id)
    return [hit for hit in hits if hit.document_id in chosen]


SOURCE_CLOSE = "\n>>>"
"""Ends a source's quoted text (`source_header` opens it)."""


def source_header(number: int, hit: SearchHit) -> str:
    where = " > ".join(quoted(part) for part in [hit.title, *hit.heading_path][:3])
    return f"[{number}] {where}\n<<<\n"


def quoted(text: str) -> str:
    """Text as it goes between the fences: a fence inside it is broken up, so it cannot end its source."""
    return text.replace("<<<", "< < <").replace(">>>", "> > >")
