"""Retrieval evaluation: ingest a dataset through the normal submission path, query every mode, score."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from groundwork.platform.backends import Backend
from groundwork.platform.documents import NewDocument
from groundwork.platform.eval.datasets import RetrievalDataset
from groundwork.retrieval.metrics import mrr_at_k, ndcg_at_k, recall_at_k
from groundwork.retrieval.types import SearchMode

SOURCE_PREFIX = "eval://"
CHUNKS_PER_QUERY = 200  # enough chunks for 100 distinct documents at this chunking


@dataclass(frozen=True)
class ModeScores:
    mode: str
    ndcg_at_10: float
    recall_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def corpus_documents(dataset: RetrievalDataset) -> list[NewDocument]:
    return [
        NewDocument(
            source_uri=f"{SOURCE_PREFIX}{dataset.name}/{doc.id}",
            filename=f"{doc.id}.txt",
            data=doc.text.encode("utf-8") or b" ",
            declared_mime_type="text/plain",
            title=doc.title or None,
            metadata={"corpus_id": doc.id},
        )
        for doc in dataset.corpus
        if doc.text.strip()
    ]


def ranked_documents(hits: Sequence[dict[str, Any]]) -> list[str]:
    """Chunk hits -> corpus ids in rank order, each document at its best chunk's rank."""
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(str(hit["source_uri"]).rsplit("/", 1)[-1], None)
    return list(seen)


def evaluate_mode(
    backend: Backend,
    dataset: RetrievalDataset,
    datastore: str,
    mode: SearchMode,
    on_query: Callable[[], None] | None = None,
) -> ModeScores:
    totals = {"ndcg": 0.0, "r10": 0.0, "r100": 0.0, "mrr": 0.0}
    started = time.perf_counter()
    for query_id, text in dataset.queries.items():
        hits = backend.search(text, [datastore], top_k=CHUNKS_PER_QUERY, mode=mode)
        ranked = ranked_documents(hits)
        relevant = dataset.qrels[query_id]
        totals["ndcg"] += ndcg_at_k(ranked, relevant, 10)
        totals["r10"] += recall_at_k(ranked, relevant, 10)
        totals["r100"] += recall_at_k(ranked, relevant, 100)
        totals["mrr"] += mrr_at_k(ranked, relevant, 10)
        if on_query:
            on_query()
    n = max(1, len(dataset.queries))
    return ModeScores(
        mode=mode.value,
        ndcg_at_10=totals["ndcg"] / n,
        recall_at_10=totals["r10"] / n,
        recall_at_100=totals["r100"] / n,
        mrr_at_10=totals["mrr"] / n,
        queries=len(dataset.queries),
        seconds=time.perf_counter() - started,
    )
