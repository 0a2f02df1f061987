"""One answer in progress (`AnswerRun`: what each step of the flow found, what has been shown) and the values
built from it: the `claim` events the reader sees and the final `AnswerResult`, which is exactly the claims shown."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.citations import CitationOrder
from groundwork.platform.answers.context import Passage, TokenCounter
from groundwork.platform.answers.safety import LinkPolicy
from groundwork.platform.answers.streaming import ClaimGate, Released
from groundwork.platform.answers.types import AnswerEvent, AnswerRequest, AnswerResult, Citation, ClaimResult
from groundwork.platform.answers.verification import ClaimVerdict
from groundwork.platform.search import SearchHit
from groundwork.serving.types import ChatMessage

REFUSAL = "The documents don't answer this question."


@dataclass
class AnswerRun:
    """One answer in progress: what each step found, and what has been shown."""

    request: AnswerRequest
    principal: Principal
    gate: ClaimGate
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    conversation_id: str = ""
    query: str = ""
    hits: list[SearchHit] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    messages: tuple[ChatMessage, ...] = ()
    notice: str | None = None
    notices_sent: set[str] = field(default_factory=set)
    fallback: dict[str, Any] | None = None
    usage: dict[str, int] | None = None
    sent_sources: set[int] = field(default_factory=set)
    """Prompt numbers of the sources whose citation objects were sent with a claim."""
    numbering: CitationOrder = field(default_factory=CitationOrder)
    """Display numbers of the sources, in order of first appearance in what was shown."""
    quote: asyncio.Future[str] | None = None
    """The extractive answer, computed ahead once a claim of the model failed (the fallback may need it)."""

    @property
    def sources(self) -> dict[int, str]:
        return {p.number: p.text for p in self.passages}

    @property
    def policy(self) -> LinkPolicy:
        return LinkPolicy(p.hit.source_uri for p in self.passages)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def claim_event(run: AnswerRun, released: Released) -> AnswerEvent:
    """A released claim as the reader gets it: sources numbered in order of first appearance (`CitationOrder`),
    with the citation objects of sources not sent before."""
    claim = released.verdict.claim
    numbers = [n for n in claim.citations if n in run.sources]
    fresh = [n for n in numbers if n not in run.sent_sources]
    run.sent_sources.update(fresh)
    index = next(i for i in range(len(run.gate.shown) - 1, -1, -1) if run.gate.shown[i] is released)
    text, shown_numbers = run.numbering.apply(run.policy.sanitize(claim.text.strip()), numbers)
    data = {
        "index": index,
        "text": text,
        "separator": separator(run.gate.shown, index),
        "citations": shown_numbers,
        "verdict": "supported" if released.verdict.supported else "unsupported",
        "score": released.verdict.score,
        "origin": released.origin,
        "sources": [asdict(citation_of(run.passages[n - 1], run.numbering.number(n))) for n in fresh],
    }
    return AnswerEvent("claim", data)


def final_result(run: AnswerRun) -> AnswerResult:
    """The answer: exactly the claims shown, joined as they were shown, or a refusal if none was."""
    policy, shown = run.policy, run.gate.shown
    mode: Literal["generated", "extractive", "refusal"] = "refusal"
    answer_text = REFUSAL
    if shown:
        mode = "extractive" if any(r.origin == "extractive" for r in shown) else "generated"
        texts = [run.numbering.apply(policy.sanitize(r.verdict.claim.text.strip()), [])[0] for r in shown]
        answer_text = "".join(separator(shown, i) + text for i, text in enumerate(texts))
    used = sorted({n for r in shown for n in r.verdict.claim.citations if n in run.sources}, key=run.numbering.number)
    run.timings["total_ms"] = run.elapsed_ms()
    return AnswerResult(
        answer=answer_text,
        citations=[citation_of(run.passages[n - 1], run.numbering.number(n)) for n in used],
        claims=[claim_result(v, policy, run.numbering) for v in run.gate.checked],
        refused=mode == "refusal",
        mode=mode,
        retrieved=run.hits,
        conversation_id=run.conversation_id,
        standalone_query=run.query,
        timings_ms=run.timings,
        notice=run.notice,
        usage=run.usage,
        fallback=run.fallback,
    )


def separator(shown: list[Released], index: int) -> str:
    """What goes before claim `index` of the answer: nothing first, a blank line around code blocks and list
    items (markdown needs them on lines of their own), else a space."""
    if index == 0:
        return ""
    before, this = shown[index - 1].verdict.claim.text.strip(), shown[index].verdict.claim.text.strip()
    blocky = ("```", "~~~")
    return "\n\n" if before.startswith(blocky) or this.startswith(blocky) else " "


def recent_turns(history: tuple[ChatMessage, ...], count: TokenCounter, limit: int) -> tuple[ChatMessage, ...]:
    """The latest turns of `history` that fit in `limit` tokens."""
    kept: list[ChatMessage] = []
    used = 0
    for message in reversed(history):
        used += count(message.content) + 8
        if used > limit:
            break
        kept.append(message)
    return tuple(reversed(kept))


def usage_counts(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def hit_summary(hit: SearchHit) -> dict[str, Any]:
    return {
        "chunk_id": hit.chunk_id,
        "document_id": hit.document_id,
        "datastore_id": hit.datastore_id,
        "title": hit.title,
        "source_uri": hit.source_uri,
        "heading_path": hit.heading_path,
        "score": hit.score,
        "dense_score": hit.dense_score,
        "page": hit.page,
    }


def citation_of(passage: Passage, number: int | None = None) -> Citation:
    """The citation of `passage`, shown as `[number]` (default: its number in the prompt)."""
    hit = passage.hit
    return Citation(
        number=passage.number if number is None else number,
        chunk_id=hit.chunk_id,
        document_id=hit.document_id,
        datastore_id=hit.datastore_id,
        title=hit.title,
        source_uri=hit.source_uri,
        start_offset=hit.start_offset,
        end_offset=hit.end_offset,
        page=hit.page,
        heading_path=hit.heading_path,
        quote=hit.text,
    )


def claim_result(verdict: ClaimVerdict, policy: LinkPolicy, numbering: CitationOrder) -> ClaimResult:
    """A checked claim, numbered as the answer is (a source the answer does not cite gets the next number)."""
    text, numbers = numbering.apply(policy.sanitize(verdict.claim.text), list(verdict.claim.citations))
    return ClaimResult(
        text=text,
        citations=numbers,
        supported=verdict.supported,
        score=verdict.score,
        reasons=list(verdict.reasons),
    )
