"""The answer flow, shared by the API, the OpenAI-compatible endpoint, the CLI and Slack, in named steps:

admission (a bounded queue) -> `_retrieve` what the principal may read -> `_answerable_passages` (the gates)
-> `_prompt`: fit the context window, numbered and quoted sources -> `_generate`: stream the model, cut its
text into claims as sentences complete, verify each at once, show it only once it passed (`streaming.py`) ->
`_quote`: the extractive answer (the passages' own best sentences, cited) when there is no model, when the
model's first claims fail or it repeats itself (generation is stopped on the server) or when nothing it wrote
was supported -> `_finish`: the final answer, exactly the claims shown, or a refusal when nothing was; stored and
audited. Every text shown passes the link policy (`safety.py`): links and images only to the documents used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.answerability import expects_quantity, states_quantity
from groundwork.platform.answers.citations import Claim, parse_claims
from groundwork.platform.answers.context import ContextBudget, TokenCounter, fit_context, from_top_documents
from groundwork.platform.answers.extractive import extract_answer
from groundwork.platform.answers.gates import (
    GatePolicy,
    check_names,
    check_vocabulary,
    closest_sources,
    not_relevant,
    with_caveat,
)
from groundwork.platform.answers.prompt import OVERHEAD_TOKENS, build_messages
from groundwork.platform.answers.rewrite import standalone_query
from groundwork.platform.answers.run import (
    REFUSAL,
    AnswerRun,
    claim_event,
    final_result,
    hit_summary,
    recent_turns,
    usage_counts,
)
from groundwork.platform.answers.safety import StreamSanitizer
from groundwork.platform.answers.specifics import demote_vacuous
from groundwork.platform.answers.streaming import (
    ClaimGate,
    ClaimSplitter,
    FallbackMonitor,
    check_claims,
    looping,
)
from groundwork.platform.answers.types import AnswerEvent, AnswerRequest, AnswerResult
from groundwork.platform.answers.verification import ClaimVerifier
from groundwork.platform.conversations import ConversationStore
from groundwork.platform.limits import GenerationAdmission
from groundwork.platform.request_context import request_id
from groundwork.platform.search import SearchHit, SearchQuery, SearchService
from groundwork.retrieval.protocols import Embedder
from groundwork.serving.errors import GeneratorError
from groundwork.serving.protocols import Generator
from groundwork.serving.types import GenerationRequest

logger = logging.getLogger(__name__)
Origin = Literal["model", "extractive"]

__all__ = ["REFUSAL", "AnswerService", "AnswerSettings", "estimate_tokens"]
NO_MODEL = "The language model is not available; this answer quotes the sources directly."
UNVERIFIED = "The model's answer could not be verified against the sources; this answer quotes them."
UNVERIFIED_LATER = "The model's later statements could not be verified; the rest of this answer quotes the sources."
UNVERIFIED_NOTHING = "The model's answer could not be verified, and no passage answers the question closely enough."
NO_QUANTITY = "The question asks for a quantity and no supported statement gives one."


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
    gates: GatePolicy = field(default_factory=GatePolicy)
    fallback_window: int = 3
    fallback_failures: int = 2
    fallback_repeats: int = 2


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

    @property
    def settings(self) -> AnswerSettings:
        return self._settings

    async def answer(self, request: AnswerRequest, principal: Principal) -> AnswerResult:
        """The whole answer at once (the streamed flow, consumed)."""
        result: AnswerResult | None = None
        async for event in self.stream(request, principal, include_result=True):
            if event.event == "done":
                result = event.data["result"]
        if result is None:  # pragma: no cover - stream() always ends with done
            raise RuntimeError("answer stream ended without a result")
        return result

    async def stream(
        self, request: AnswerRequest, principal: Principal, *, include_result: bool = False
    ) -> AsyncGenerator[AnswerEvent]:
        """Events: retrieval, claim*, notice*, done (`draft*` too when the request asks). `done` carries the final
        answer. Raises `OverloadedError` before the first event when the generation queue is full."""
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
        def commits(supported: list[str]) -> bool:
            return not expects_quantity(request.question) or states_quantity(supported, request.question)

        run = AnswerRun(request, principal, ClaimGate(self._settings.unsupported_claims, commits))
        yield await self._retrieve(run)
        relevant, run.notice = await self._answerable_passages(run.query, run.hits, request, principal)
        caveat, run.notice = (run.notice, None) if relevant else (None, run.notice)  # #13: a caveat, or why refused
        if relevant:
            generator = self._generator()
            self._prompt(run, relevant, generator is not None)
            if generator is None:
                run.notice = NO_MODEL
            else:
                async for event in self._generate(run, generator):
                    yield event
            reason = run.fallback["reason"] if run.fallback else None
            if not run.gate.committed or reason == "unsupported":
                async for event in self._quote(run):
                    yield event
            elif run.quote is not None:
                run.quote.cancel()  # computed ahead, not needed
        self._settle_notice(run)
        run.notice = with_caveat(run.notice, caveat, answered=bool(run.gate.shown), gated=not relevant)  # #13
        if run.notice is not None and run.notice not in run.notices_sent:
            yield self._notice(run)
        yield await self._finish(run, include_result)

    def _settle_notice(self, run: AnswerRun) -> None:
        """The final answer's notice: why it refuses, or why it is degraded."""
        if run.gate.shown:
            return
        if any(v.supported for v in run.gate.checked) and expects_quantity(run.request.question):
            run.notice = NO_QUANTITY
        elif run.notice == UNVERIFIED:
            # Nothing was quoted either: a refusal, saying why only if generation was stopped for it.
            run.notice = None if run.fallback is None else UNVERIFIED_NOTHING

    async def _retrieve(self, run: AnswerRun) -> AnswerEvent:
        """Open the conversation, rewrite a follow-up into a standalone query, search what the principal may read."""
        request = run.request
        # Database and model work runs in threads: the event loop keeps relaying other answers' tokens.
        run.conversation_id, previous = await asyncio.to_thread(self._open_conversation, request, run.principal)
        run.query = standalone_query(request.question, previous)
        search = SearchQuery(
            query=run.query,
            datastore_ids=request.datastore_ids,
            top_k=request.top_k or self._settings.top_k,
            filters=request.filters,
        )
        result, _ = await asyncio.gather(
            asyncio.to_thread(self._search.search, search, run.principal),
            asyncio.to_thread(
                self._conversations.append, run.conversation_id, "user", request.question, standalone_query=run.query
            ),
        )
        run.hits = result.hits
        run.timings["retrieval_ms"] = run.elapsed_ms()
        return AnswerEvent("retrieval", {"standalone_query": run.query, "hits": [hit_summary(h) for h in run.hits]})

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
        """The hits worth answering from with the caveat to show, or none and why (`gates.py`, docs/answers.md)."""
        relevant = [h for h in hits if (h.dense_score or 0.0) >= self._settings.min_relevance]
        if not relevant:
            scores = [h.dense_score for h in hits if h.dense_score is not None]
            return [], not_relevant(max(scores) if scores else None, self._settings.min_relevance)
        policy, best_relevance = self._settings.gates, max(h.dense_score or 0.0 for h in relevant)
        texts = [f"{h.title} {' '.join(h.heading_path)} {h.text}" for h in relevant]
        verdict = check_names(query, texts, best_relevance, policy)
        if verdict.refuse or not (
            self._settings.vocabulary_min_chunks and best_relevance < self._settings.vocabulary_max_relevance
        ):
            return ([] if verdict.refuse else relevant), verdict.notice

        def unknown(words: Sequence[str]) -> list[str]:
            return self._search.unmentioned_words(
                words,
                request.datastore_ids,
                principal,
                request.filters,
                min_chunks=self._settings.vocabulary_min_chunks,
            )

        vocabulary = await asyncio.to_thread(check_vocabulary, query, unknown, policy)
        if vocabulary.refuse:
            return [], vocabulary.notice
        return relevant, verdict.notice or vocabulary.notice

    def _prompt(self, run: AnswerRun, relevant: list[SearchHit], with_model: bool) -> None:
        """Fit the question, the caller's instructions and history, and the passages into the model's window."""
        options = run.request.options
        count = self._count() or estimate_tokens
        history = recent_turns(options.history, count, self._settings.context_window // 4)
        extra = sum(count(m.content) + 8 for m in history) + (count(options.instructions or "") + 16)
        budget = ContextBudget(
            context_window=self._settings.context_window,
            answer_tokens=self._settings.answer_tokens,
            overhead_tokens=OVERHEAD_TOKENS + extra,
        )
        context = from_top_documents(relevant, self._settings.context_documents) if with_model else relevant
        question, run.passages = fit_context(run.request.question, context, budget, count)
        run.messages = build_messages(question, run.passages, instructions=options.instructions, history=history)

    async def _generate(self, run: AnswerRun, generator: Generator) -> AsyncGenerator[AnswerEvent]:
        """Stream the model; verify each claim as its sentence completes; stop early when it is not worth it."""
        options = run.request.options
        generation = GenerationRequest(
            messages=run.messages,
            max_tokens=options.max_tokens or self._settings.answer_tokens,
            temperature=self._settings.temperature if options.temperature is None else options.temperature,
            stop=options.stop,
        )
        splitter = ClaimSplitter(list(run.sources))
        s = self._settings
        monitor = FallbackMonitor(s.fallback_window, s.fallback_failures, s.fallback_repeats)
        draft = StreamSanitizer(run.policy) if run.request.draft else None
        produced = 0
        mark = time.perf_counter()
        try:
            async with aclosing(generator.stream(generation)) as deltas:
                async for delta in deltas:
                    if delta.usage is not None:
                        run.usage = usage_counts(delta.usage.prompt_tokens, delta.usage.completion_tokens)
                    if not delta.text:
                        continue
                    produced += 1
                    if produced == 1:
                        run.timings["ttft_ms"] = run.elapsed_ms()
                    shown = draft.feed(delta.text) if draft is not None else ""
                    if shown:
                        yield AnswerEvent("draft", {"text": shown, "verified": False})
                    events, reason = await self._check(run, splitter.feed(delta.text), monitor, "model")
                    for event in events:
                        yield event
                    if run.quote is None and not run.gate.committed and any(not v.supported for v in run.gate.checked):
                        run.quote = asyncio.ensure_future(self._extract(run))  # ready if the fallback fires
                    if reason is None and looping(splitter.pending):
                        reason = "repetition"
                    if reason is not None:  # leaving the loop closes the stream: vLLM aborts the request
                        run.fallback = {"reason": reason, "after_claims": len(run.gate.checked), "at_ms": 0.0}
                        run.fallback["at_ms"] = round(run.elapsed_ms(), 1)
                        break
            if run.fallback is None:
                rest = draft.finish() if draft is not None else ""
                if rest:
                    yield AnswerEvent("draft", {"text": rest, "verified": False})
                events, _ = await self._check(run, splitter.finish(), None, "model")
                for event in events:
                    yield event
        except GeneratorError as exc:
            if produced:
                raise
            logger.warning("language model unavailable (%s); answering extractively", exc)
            run.notice = f"The language model is unavailable ({exc}); this answer quotes the sources directly."
        run.timings["generation_ms"] = (time.perf_counter() - mark) * 1000
        if run.usage is None and produced:  # stopped early: vLLM sends usage only at the end
            count = self._count() or estimate_tokens
            run.usage = usage_counts(sum(count(m.content) for m in run.messages), produced)
        if run.notice is None and (run.fallback is not None or not run.gate.committed):
            run.notice = UNVERIFIED_LATER if run.gate.committed else UNVERIFIED
        if run.notice is not None and run.fallback is not None:
            yield self._notice(run)

    async def _check(
        self,
        run: AnswerRun,
        claims: list[Claim],
        monitor: FallbackMonitor | None,
        origin: Literal["model", "extractive"],
    ) -> tuple[list[AnswerEvent], str | None]:
        """Verify complete claims; the claim events they release, and a reason to stop generating (or None)."""
        if not claims:
            return [], None
        mark = time.perf_counter()
        verdicts = await asyncio.to_thread(check_claims, self._verifier, claims, run.sources)
        verdicts = demote_vacuous(verdicts, run.request.question)  # #13: verified = supported AND specific
        run.timings["verification_ms"] = run.timings.get("verification_ms", 0.0) + (time.perf_counter() - mark) * 1000
        events: list[AnswerEvent] = []
        reason: str | None = None
        for verdict in verdicts:
            released, repeated = run.gate.admit(verdict, origin)
            events.extend(claim_event(run, r) for r in released)
            if monitor is not None and reason is None:
                reason = monitor.record(verdict, repeated)
        if events and "first_verified_claim_ms" not in run.timings:
            run.timings["first_verified_claim_ms"] = run.elapsed_ms()
        return events, reason

    async def _quote(self, run: AnswerRun) -> AsyncGenerator[AnswerEvent]:
        """The extractive answer: the passages' sentences closest to the question, each verified like a claim."""
        text = await (run.quote or self._extract(run))
        events, _ = await self._check(run, parse_claims(text, source_ids=list(run.sources)), None, "extractive")
        if events and run.notice is not None and run.notice not in run.notices_sent:
            yield self._notice(run)
        for event in events:
            yield event

    async def _extract(self, run: AnswerRun) -> str:
        return await asyncio.to_thread(
            extract_answer, run.request.question, run.passages, self._embedder, self._settings.extractive_sentences
        )

    def _notice(self, run: AnswerRun) -> AnswerEvent:
        text = run.notice or ""
        run.notices_sent.add(text)
        return AnswerEvent("notice", {"text": text, "fallback": run.fallback})

    async def _finish(self, run: AnswerRun, include_result: bool) -> AnswerEvent:
        """The final answer (exactly the claims shown, or a refusal if none was), stored and audited."""
        final = final_result(run)
        message_id = await self._record(run, final)
        data: dict[str, Any] = {"answer": final.answer, "refused": final.refused, "mode": final.mode}
        data.update(notice=final.notice, conversation_id=run.conversation_id, message_id=message_id)
        data.update(timings_ms=run.timings, citations=[asdict(c) for c in final.citations])
        data.update(claims=[asdict(c) for c in final.claims], usage=run.usage, fallback=run.fallback)
        data["closest_sources"] = closest_sources(run.hits) if final.refused else []  # #13: what a refusal lists
        if include_result:
            data["result"] = replace(final, message_id=message_id)
        return AnswerEvent("done", data)

    async def _record(self, run: AnswerRun, final: AnswerResult) -> int:
        """Store the assistant turn and write the audit record; the stored turn's id."""
        details = {
            "mode": final.mode,
            "refused": final.refused,
            "notice": final.notice,
            "citations": [asdict(c) for c in final.citations],
            "claims": [asdict(c) for c in final.claims],
            "sources": sorted({p.hit.document_id for p in run.passages}),
        }
        message_id: int = await asyncio.to_thread(
            self._conversations.append, run.conversation_id, "assistant", final.answer, details=details
        )
        if self._audit is not None:
            await asyncio.to_thread(
                self._audit.record,
                run.principal,
                run.request.surface,
                request_id=request_id.get(),
                query=run.request.question,
                datastore_ids=sorted({h.datastore_id for h in run.hits}) or list(run.request.datastore_ids),
                shown=[h.document_id for h in run.hits],
                cited=[c.document_id for c in final.citations],
                details={"mode": final.mode, "refused": final.refused, "conversation_id": run.conversation_id},
            )
        return message_id
