"""Answer evaluation: ingest a corpus through the normal path, ask every question through the answer flow,
and score citation precision, key-fact recall, refusal accuracy, groundedness and time to first token."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from groundwork.platform.backends import Backend
from groundwork.platform.eval.answer_sets import AnswerQuestion, key_fact_recall, reference_word_recall


@dataclass
class QuestionOutcome:
    id: str
    answerable: bool
    refused: bool
    mode: str
    answer: str
    cited_sources: list[str]
    gold_sources: list[str]
    claims: int
    supported_claims: int
    key_fact_recall: float | None
    """None for questions without key facts (unanswerable ones; sets with prose reference answers)."""
    ttft_ms: float | None
    total_ms: float
    reference_recall: float | None = None
    """`reference_word_recall` against the question's reference answer, when it has one."""
    best_relevance: float | None = None
    """Highest cosine similarity of a retrieved passage to the question (what the relevance gate sees)."""
    error: str | None = None
    notice: str | None = None
    """Why the answer is a refusal or a quote, as the answer flow said it."""
    fallback: str | None = None
    """Why generation was stopped early for the quoted answer (`unsupported`, `repetition`), if it was."""
    fallback_at_ms: float | None = None
    """When it was stopped (server side, since the request started)."""
    fallback_after_claims: int | None = None
    """Claims checked when it was stopped."""


@dataclass
class AnswerReport:
    outcomes: list[QuestionOutcome] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        answerable = [o for o in self.outcomes if o.answerable]
        unanswerable = [o for o in self.outcomes if not o.answerable]
        cited = [(s, o) for o in self.outcomes for s in o.cited_sources if o.answerable]
        claims = sum(o.claims for o in self.outcomes)
        ttfts = sorted(o.ttft_ms for o in self.outcomes if o.ttft_ms is not None)
        recalls = [o.key_fact_recall for o in answerable if o.key_fact_recall is not None]
        references = [o.reference_recall for o in answerable if o.reference_recall is not None]
        stops = [o.fallback_at_ms for o in self.outcomes if o.fallback_at_ms is not None]
        after = [o.fallback_after_claims for o in self.outcomes if o.fallback_after_claims is not None]
        return {
            "questions": len(self.outcomes),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "errors": sum(1 for o in self.outcomes if o.error),
            "citation_precision": (sum(1 for s, o in cited if s in o.gold_sources) / len(cited) if cited else None),
            "key_fact_recall": statistics.fmean(recalls) if recalls else None,
            "reference_word_recall": statistics.fmean(references) if references else None,
            "refusal_accuracy_unanswerable": (
                sum(1 for o in unanswerable if o.refused) / len(unanswerable) if unanswerable else None
            ),
            "answered_rate_answerable": (
                sum(1 for o in answerable if not o.refused) / len(answerable) if answerable else None
            ),
            "groundedness": sum(o.supported_claims for o in self.outcomes) / claims if claims else None,
            "generated_share": sum(1 for o in self.outcomes if o.mode == "generated") / max(1, len(self.outcomes)),
            "ttft_ms_p50": statistics.median(ttfts) if ttfts else None,
            "fallbacks": {
                reason: sum(1 for o in self.outcomes if o.fallback == reason)
                for reason in ("unsupported", "repetition")
            },
            "fallback_rate": sum(1 for o in self.outcomes if o.fallback) / max(1, len(self.outcomes)),
            "fallback_at_ms_p50": statistics.median(stops) if stops else None,
            "fallback_after_claims_p50": statistics.median(after) if after else None,
            "ttft_ms_p95": ttfts[min(len(ttfts) - 1, int(0.95 * len(ttfts)))] if ttfts else None,
        }


def ask_all(
    backend: Backend,
    datastore: str,
    questions: Sequence[AnswerQuestion],
    source_of: Callable[[str], str],
    on_done: Callable[[], None] | None = None,
) -> AnswerReport:
    """Ask each question; `source_of(source_uri)` maps a cited document to the id gold sources use."""
    report = AnswerReport()
    for question in questions:
        started = time.perf_counter()
        ttft: float | None = None
        done: dict[str, Any] = {}
        citations: list[dict[str, Any]] = []
        claims: list[dict[str, Any]] = []
        error: str | None = None
        relevance: float | None = None
        try:
            for event, data in backend.ask(question.question, [datastore]):
                if event == "retrieval":
                    scores = [h["dense_score"] for h in data["hits"] if h.get("dense_score") is not None]
                    relevance = max(scores) if scores else None
                elif event == "claim" and ttft is None:  # the first verified claim the reader sees
                    ttft = (time.perf_counter() - started) * 1000
                elif event == "done":
                    done = data
                    citations, claims = data.get("citations", []), data.get("claims", [])
        except Exception as exc:  # noqa: BLE001 - recorded per question; one failure must not end the run
            error = f"{type(exc).__name__}: {exc}"
        answer = str(done.get("answer", ""))
        report.outcomes.append(
            QuestionOutcome(
                id=question.id,
                answerable=question.answerable,
                refused=bool(done.get("refused", True)),
                mode=str(done.get("mode", "error")),
                answer=answer,
                cited_sources=[source_of(c["source_uri"]) for c in citations],
                gold_sources=list(question.gold_files),
                claims=len(claims),
                supported_claims=sum(1 for c in claims if c["supported"]),
                key_fact_recall=key_fact_recall(answer, question) if question.key_facts else None,
                reference_recall=(
                    reference_word_recall(answer, question.reference_answer) if question.reference_answer else None
                ),
                ttft_ms=ttft,
                total_ms=(time.perf_counter() - started) * 1000,
                best_relevance=relevance,
                error=error,
                notice=done.get("notice"),
                fallback=(done.get("fallback") or {}).get("reason"),
                fallback_at_ms=(done.get("fallback") or {}).get("at_ms"),
                fallback_after_claims=(done.get("fallback") or {}).get("after_claims"),
            )
        )
        if on_done:
            on_done()
    return report
