"""Retrieval evaluation: ingest a dataset through the normal submission path, query every mode, score."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from groundwork.platform.backends import Backend
from groundwork.platform.documents import NewDocument
from groundwork.platform.eval.datasets import RetrievalDataset
from groundwork.retrieval.calibration import Calibration
from groundwork.retrieval.hybrid import FusionConfig, fuse
from groundwork.retrieval.metrics import mrr_at_k, ndcg_at_k, recall_at_k
from groundwork.retrieval.types import ScoredId, SearchMode

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
            filename=f"{doc.id}.txt" if doc.mime_type == "text/plain" else doc.id,
            data=doc.text.encode("utf-8") or b" ",
            declared_mime_type=doc.mime_type,
            title=doc.title or None,
            metadata={"corpus_id": doc.id},
        )
        for doc in dataset.corpus
        if doc.text.strip()
    ]


def corpus_id(hit: dict[str, Any]) -> str:
    """The corpus id of a hit's document (kept in its metadata; ids may contain slashes)."""
    metadata = hit.get("metadata") or {}
    if "corpus_id" in metadata:
        return str(metadata["corpus_id"])
    return str(hit["source_uri"]).rsplit("/", 1)[-1]


def ranked_documents(hits: Sequence[dict[str, Any]]) -> list[str]:
    """Chunk hits -> corpus ids in rank order, each document at its best chunk's rank."""
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(corpus_id(hit), None)
    return list(seen)


class _Totals:
    def __init__(self) -> None:
        self.ndcg = self.r10 = self.r100 = self.mrr = 0.0

    def add(self, ranked: Sequence[str], relevant: dict[str, int]) -> None:
        self.ndcg += ndcg_at_k(ranked, relevant, 10)
        self.r10 += recall_at_k(ranked, relevant, 10)
        self.r100 += recall_at_k(ranked, relevant, 100)
        self.mrr += mrr_at_k(ranked, relevant, 10)

    def scores(self, mode: str, queries: int, seconds: float) -> ModeScores:
        n = max(1, queries)
        return ModeScores(mode, self.ndcg / n, self.r10 / n, self.r100 / n, self.mrr / n, queries, seconds)


def evaluate_mode(
    backend: Backend,
    dataset: RetrievalDataset,
    datastore: str,
    mode: SearchMode,
    on_query: Callable[[], None] | None = None,
) -> ModeScores:
    totals = _Totals()
    started = time.perf_counter()
    for query_id, text in dataset.queries.items():
        hits = backend.search(text, [datastore], top_k=CHUNKS_PER_QUERY, mode=mode)
        totals.add(ranked_documents(hits), dataset.qrels[query_id])
        if on_query:
            on_query()
    return totals.scores(mode.value, len(dataset.queries), time.perf_counter() - started)


def fusion_variants(calibration: Calibration | None) -> dict[str, FusionConfig]:
    """The fusion variants `--modes` can name besides dense, lexical and hybrid (the configured search)."""
    variants = {
        "rrf": FusionConfig(method="rrf", rrf_k=60),
        "convex": FusionConfig(),
        "dbsf": FusionConfig(normalization="dbsf"),
        "spread": FusionConfig(query_weighting="spread"),
    }
    if calibration is not None:
        dense, lexical = calibration.dense_weight, calibration.lexical_weight
        variants["calibrated"] = FusionConfig(dense_weight=dense, lexical_weight=lexical)
        variants["calibrated-spread"] = FusionConfig(
            dense_weight=dense, lexical_weight=lexical, query_weighting="spread"
        )
    return variants


def evaluate_fusions(
    backend: Backend,
    dataset: RetrievalDataset,
    datastore: str,
    variants: Mapping[str, FusionConfig],
    on_query: Callable[[], None] | None = None,
) -> list[ModeScores]:
    """Score fusion variants offline on the same candidates: each query's dense and lexical rankings are
    fetched once (as many as hybrid search fuses) and every variant fuses them as the search path would."""
    totals = {name: _Totals() for name in variants}
    started = time.perf_counter()
    for query_id, text in dataset.queries.items():
        lists, documents = [], {}
        for mode, score_key in ((SearchMode.DENSE, "dense_score"), (SearchMode.LEXICAL, "lexical_score")):
            hits = backend.search(text, [datastore], top_k=CHUNKS_PER_QUERY, mode=mode)
            lists.append([ScoredId(int(hit["chunk_id"]), float(hit[score_key] or hit["score"])) for hit in hits])
            documents.update({int(hit["chunk_id"]): corpus_id(hit) for hit in hits})
        for name, config in variants.items():
            fused = fuse(lists[0], lists[1], config, CHUNKS_PER_QUERY)
            ranked = list(dict.fromkeys(documents[hit.id] for hit in fused))
            totals[name].add(ranked, dataset.qrels[query_id])
        if on_query:
            on_query()
    seconds = time.perf_counter() - started
    return [totals[name].scores(name, len(dataset.queries), seconds) for name in variants]
