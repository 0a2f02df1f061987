"""The answer flow, shared by the API, the OpenAI-compatible endpoint, the CLI and Slack:

admission (a bounded queue) -> retrieve what the principal may read -> relevance gate -> fit the context window
-> prompt with numbered, quoted sources -> generate (streamed, sanitized) -> parse citations -> verify each claim
against its cited passages -> keep supported claims -> answer, or refuse when nothing relevant was found or
nothing is supported -> audit. If the language model is unavailable, the answer is extractive: the passages'
own best sentences, cited, with a notice saying so. Every answer, streamed or final, passes the link policy
(`safety.py`): links and images only to the documents used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.answerability import content_words, expects_quantity, missing_terms, states_quantity
from groundwork.platform.answers.citations import parse_claims
from groundwork.platform.answers.context import (
    ContextBudget,
    Passage,
    TokenCounter,
    fit_context,
    from_top_documents,
)
from groundwork.platform.answers.extractive import extract_answer
from groundwork.platform.answers.prompt import OVERHEAD_TOKENS, build_messages
from groundwork.platform.answers.rewrite import standalone_query
from groundwork.platform.answers.safety import LinkPolicy, StreamSanitizer
from groundwork.platform.answers.types import (
    AnswerEvent,
    AnswerRequest,
    AnswerResult,
    Citation,
    ClaimResult,
)
from groundwork.platform.answers.verification import ClaimVerdict, ClaimVerifier
from groundwork.platform.conversations import ConversationStore
from groundwork.platform.limits import GenerationAdmission
from groundwork.platform.request_context import request_id
from groundwork.platform.search import SearchHit, SearchQuery, SearchService
from groundwork.retrieval.protocols import Embedder
from groundwork.serving.errors import GeneratorError
from groundwork.serving.protocols import Generator
from groundwork.serving.types import GenerationRequest

logger = logging.getLogger(__name__)

REFUSAL = "The documents don't answer this question."


def estimate_tokens(text: str) -> int:
    """A conservative token count (about 2.5 characters per token) for when the model's tokenizer is unknown."""
    return int(len(text) / 2.5) + 1


@dataclass(frozen=True)
class AnswerSettings:
    context_window: int
    answer_tokens: int
    temperature: float
    min_relevance: float
    unsupported_claims: Literal["remove", "flag"]
    extractive_sentences: int
    top_k: int
    vocabulary_min_chunks: int = 0
    vocabulary_max_relevance: float = 1.0
    context_documents: int = 0


class AnswerService:
    def __init__(
        self,
        search: SearchService,
        generator: Callable[[], Generator | None],
        verifier: ClaimVerifier,
        embedder: Embedder,
        conversations: ConversationStore,
        count_tokens: Callable[[], TokenCounter | None],
        settings: AnswerSettings,
        *,
        admission: GenerationAdmission | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._search = search
        self._generator = generator
        self._verifier = verifier
        self._embedder = embedder
        self._conversations = conversations
        self._count = count_tokens
        self._settings = settings
        self._admission = admission
        self._audit = audit

    def _verify(self, text: str, sources: dict[int, str]) -> list[ClaimVerdict]:
        """Verify each claim against the passages it cites. A claim the model left uncited, or cited to a
        passage that does not support it, is re-attributed to the passage that does, if one does: the
        answer then carries the corrected citation, and the claim is still checked against that passage."""
        claims = parse_claims(text, source_ids=list(sources))
        verdicts = self._verifier.verify(claims, sources)
        retry = [i for i, v in enumerate(verdicts) if not v.supported]
        if not retry or not sources:
            return verdicts
        every_source = tuple(sorted(sources))
        candidates = [replace(verdicts[i].claim, citations=every_source, invalid_citations=()) for i in retry]
        for i, verdict in zip(retry, self._verifier.verify(candidates, sources), strict=True):
            if verdict.supported and verdict.best_source is not None:
                original = verdicts[i].claim
                claim = replace(
                    original,
                    text=_with_marker(original.text_without_markers, verdict.best_source),
                    citations=(verdict.best_source,),
                    invalid_citations=(),
                )
                note = "citation added" if not original.citations else "citation corrected"
                verdicts[i] = replace(verdict, claim=claim, reasons=(note,))
        return verdicts

    async def answer(self, request: AnswerRequest, principal: Principal) -> AnswerResult:
        """The whole answer at once (the streamed flow, consumed)."""
        result: AnswerResult | None = None
        async for event in self.stream(request, principal, include_result=True):
            if event.event == "done":
                result = event.data["result"]
        if result is None:  # pragma: no cover - stream() always ends with done
            raise RuntimeError("answer stream ended without a result")
        return result

    def _open_conversation(self, request: AnswerRequest, principal: Principal) -> tuple[str, list[str]]:
        """The conversation's id (a new one unless the request names one) and its earlier user questions."""
        conversation_id = self._conversations.open(
            principal, request.conversation_id, title=request.question, datastore_ids=request.datastore_ids
        )
        previous = [t.content for t in self._conversations.turns(conversation_id) if t.role == "user"]
        return conversation_id, previous or list(request.previous_questions)

    async def _answerable_passages(
        self, query: str, hits: list[SearchHit], request: AnswerRequest, principal: Principal
    ) -> tuple[list[SearchHit], str | None]:
        """The hits worth answering from, or none and why (the gates before generation, docs/answers.md)."""
        relevant = [h for h in hits if (h.dense_score or 0.0) >= self._settings.min_relevance]
        if not relevant:
            return [], None
        missing = missing_terms(query, [f"{h.title} {' '.join(h.heading_path)} {h.text}" for h in relevant])
        if missing:
            return [], f"No retrieved passage mentions {', '.join(missing)}."
        best_relevance = max(h.dense_score or 0.0 for h in relevant)
        if self._settings.vocabulary_min_chunks and best_relevance < self._settings.vocabulary_max_relevance:
            unmentioned = await asyncio.to_thread(
                self._search.unmentioned_words,
                content_words(query),
                request.datastore_ids,
                principal,
                request.filters,
                min_chunks=self._settings.vocabulary_min_chunks,
            )
            if unmentioned:
                return [], f"The documents never mention {', '.join(repr(w) for w in unmentioned)}."
        return relevant, None

    async def stream(
        self, request: AnswerRequest, principal: Principal, *, include_result: bool = False
    ) -> AsyncGenerator[AnswerEvent]:
        """Events: retrieval, delta*, citations, verification, done. `done` carries the final answer. Raises
        `OverloadedError` before the first event when the generation queue is full."""
        if self._admission is None:
            async for event in self._stream(request, principal, include_result):
                yield event
            return
        async with self._admission.slot():
            async for event in self._stream(request, principal, include_result):
                yield event

    async def _stream(
        self, request: AnswerRequest, principal: Principal, include_result: bool
    ) -> AsyncGenerator[AnswerEvent]:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        # Database and model work runs in threads: the event loop keeps relaying other answers' tokens.
        conversation_id, previous = await asyncio.to_thread(self._open_conversation, request, principal)
        query = standalone_query(request.question, previous)
        search = SearchQuery(
            query=query,
            datastore_ids=request.datastore_ids,
            top_k=request.top_k or self._settings.top_k,
            filters=request.filters,
        )
        result, _ = await asyncio.gather(
            asyncio.to_thread(self._search.search, search, principal),
            asyncio.to_thread(
                self._conversations.append, conversation_id, "user", request.question, standalone_query=query
            ),
        )
        hits = result.hits
        timings["retrieval_ms"] = (time.perf_counter() - started) * 1000
        yield AnswerEvent("retrieval", {"standalone_query": query, "hits": [_hit_summary(h) for h in hits]})
        relevant, notice = await self._answerable_passages(query, hits, request, principal)
        answer_text = ""
        mode: Literal["generated", "extractive", "refusal"] = "refusal"
        passages: list[Passage] = []
        if relevant:
            budget = ContextBudget(
                context_window=self._settings.context_window,
                answer_tokens=self._settings.answer_tokens,
                overhead_tokens=OVERHEAD_TOKENS,
            )
            count = self._count() or estimate_tokens
            generator = self._generator()
            context = relevant if generator is None else from_top_documents(relevant, self._settings.context_documents)
            question, passages = fit_context(request.question, context, budget, count)
            policy = LinkPolicy(p.hit.source_uri for p in passages)
            generated: str | None = None
            if generator is not None:
                generation = GenerationRequest(
                    messages=build_messages(question, passages),
                    max_tokens=self._settings.answer_tokens,
                    temperature=self._settings.temperature,
                )
                pieces: list[str] = []
                sanitizer = StreamSanitizer(policy)
                mark = time.perf_counter()
                try:
                    async with aclosing(generator.stream(generation)) as deltas:
                        async for delta in deltas:
                            if delta.text:
                                if not pieces:
                                    timings["ttft_ms"] = (time.perf_counter() - started) * 1000
                                pieces.append(delta.text)
                                shown = sanitizer.feed(delta.text)
                                if shown:
                                    yield AnswerEvent("delta", {"text": shown})
                    rest = sanitizer.finish()
                    if rest:
                        yield AnswerEvent("delta", {"text": rest})
                    generated = "".join(pieces)
                    timings["generation_ms"] = (time.perf_counter() - mark) * 1000
                except GeneratorError as exc:
                    if pieces:
                        raise
                    logger.warning("language model unavailable (%s); answering extractively", exc)
                    notice = f"The language model is unavailable ({exc}); this answer quotes the sources directly."
            else:
                notice = "The language model is not available; this answer quotes the sources directly."
            if generated is None:
                answer_text = await asyncio.to_thread(
                    extract_answer, request.question, passages, self._embedder, self._settings.extractive_sentences
                )
                mode = "extractive" if answer_text else "refusal"
            else:
                answer_text, mode = generated.strip(), "generated"

        sources = {p.number: p.text for p in passages}
        policy = LinkPolicy(p.hit.source_uri for p in passages)
        mark = time.perf_counter()
        verdicts = await asyncio.to_thread(self._verify, answer_text, sources) if answer_text else []
        if mode == "generated" and not any(v.supported for v in verdicts):
            # Nothing the model wrote is supported by the passages. Quote them instead (still verified below).
            extracted = await asyncio.to_thread(
                extract_answer, request.question, passages, self._embedder, self._settings.extractive_sentences
            )
            if extracted:
                notice = "The model's answer could not be verified against the sources; this answer quotes them."
                answer_text, mode = extracted, "extractive"
                verdicts = await asyncio.to_thread(self._verify, answer_text, sources)
        timings["verification_ms"] = (time.perf_counter() - mark) * 1000
        kept = _once([v for v in verdicts if v.supported or self._settings.unsupported_claims == "flag"])
        supported = [v.claim.text for v in verdicts if v.supported]
        answers_question = True
        if supported and expects_quantity(request.question) and not states_quantity(supported, request.question):
            notice = "The question asks for a quantity and no supported statement gives one."
            answers_question = False
        if not answers_question or not any(v.supported for v in verdicts):
            mode, kept = "refusal", []
            answer_text = REFUSAL
        else:
            answer_text = policy.sanitize(" ".join(v.claim.text.strip() for v in kept))
        used = sorted({n for v in kept for n in v.claim.citations if n in sources})
        citations = [_citation(passages[n - 1]) for n in used]
        claim_results = [_claim_result(v, policy) for v in verdicts]
        yield AnswerEvent("citations", {"citations": [asdict(c) for c in citations]})
        yield AnswerEvent("verification", {"claims": [asdict(c) for c in claim_results]})
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        final = AnswerResult(
            answer=answer_text,
            citations=citations,
            claims=claim_results,
            refused=mode == "refusal",
            mode=mode,
            retrieved=hits,
            conversation_id=conversation_id,
            standalone_query=query,
            timings_ms=timings,
            notice=notice,
        )
        message_id = await asyncio.to_thread(
            self._conversations.append,
            conversation_id,
            "assistant",
            answer_text,
            details={
                "mode": mode,
                "refused": final.refused,
                "notice": notice,
                "citations": [asdict(c) for c in citations],
                "claims": [asdict(c) for c in claim_results],
                "sources": sorted({p.hit.document_id for p in passages}),
            },
        )
        if self._audit is not None:
            await asyncio.to_thread(
                self._audit.record,
                principal,
                request.surface,
                request_id=request_id.get(),
                query=request.question,
                datastore_ids=sorted({h.datastore_id for h in hits}) or list(request.datastore_ids),
                shown=[h.document_id for h in hits],
                cited=[c.document_id for c in citations],
                details={"mode": mode, "refused": final.refused, "conversation_id": conversation_id},
            )
        data: dict[str, Any] = {"answer": answer_text, "refused": final.refused, "mode": mode, "notice": notice}
        data["conversation_id"] = conversation_id
        data["message_id"] = message_id
        data["timings_ms"] = timings
        if include_result:
            data["result"] = replace(final, message_id=message_id)
        yield AnswerEvent("done", data)


def _once(verdicts: list[ClaimVerdict]) -> list[ClaimVerdict]:
    """Each claim once: a small model repeats itself, and a repeated sentence adds nothing."""
    seen: set[str] = set()
    unique: list[ClaimVerdict] = []
    for verdict in verdicts:
        key = " ".join(verdict.claim.text_without_markers.lower().split())
        if key not in seen:
            seen.add(key)
            unique.append(verdict)
    return unique


def _with_marker(text: str, number: int) -> str:
    body = text.rstrip()
    if body and body[-1] in ".!?":
        return f"{body[:-1]} [{number}]{body[-1]}"
    return f"{body} [{number}]"


def _hit_summary(hit: SearchHit) -> dict[str, Any]:
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


def _citation(passage: Passage) -> Citation:
    hit = passage.hit
    return Citation(
        number=passage.number,
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


def _claim_result(verdict: ClaimVerdict, policy: LinkPolicy) -> ClaimResult:
    return ClaimResult(
        text=policy.sanitize(verdict.claim.text),
        citations=list(verdict.claim.citations),
        supported=verdict.supported,
        score=verdict.score,
        reasons=list(verdict.reasons),
    )
