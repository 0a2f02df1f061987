"""Per-datastore fusion weights from pseudo-queries drawn from the datastore's own chunks (no labels).

A deterministic sample of chunks each yields one pseudo-query (a sentence of the chunk, see
`pseudo_queries`); both rankers search for it and the chunk it came from is the one relevant answer. The
dense weight of convex fusion that ranks the source chunks best (mean reciprocal rank at 10) over a fixed
grid is the datastore's calibrated weight. Sampling is by a hash of the chunk id, so the same chunks give
the same calibration; the result is stored in the index manifest with the generation it was computed at.
Why this estimator and how far it transfers: docs/decisions/0006-adaptive-fusion.md.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from groundwork.retrieval.hybrid import FusionConfig, QueryWeighting, fuse
from groundwork.retrieval.protocols import IdArray, Vectors
from groundwork.retrieval.types import ScoredId

WEIGHT_GRID = tuple(round(0.1 * step, 1) for step in range(1, 10))
"""Dense weights tried (the lexical weight is 1 - dense weight)."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]{2,}")


class CalibrationSearcher(Protocol):
    """What calibration searches: `HybridIndex` is one."""

    def search_dense(self, query: Vectors, k: int, allowed: IdArray | None = None) -> list[ScoredId]: ...

    def search_lexical(self, query: str, k: int, allowed: IdArray | None = None) -> list[ScoredId]: ...


@dataclass(frozen=True)
class PseudoQuery:
    text: str
    source: int
    """Id of the chunk the query was drawn from: its one relevant answer."""


@dataclass(frozen=True)
class Calibration:
    """The outcome of one calibration, as stored in the index manifest."""

    dense_weight: float
    lexical_weight: float
    chunk_count: int
    """Chunks in the index when it was calibrated (re-calibration is due once it has grown enough)."""
    generation: int
    pseudo_queries: int
    dense_mrr: float
    """MRR@10 of the source chunks, dense ranking alone."""
    lexical_mrr: float
    fused_mrr: float
    """MRR@10 with the chosen weights."""
    seconds: float
    query_weighting: str = "none"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        fields = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in fields})


def stable_order(chunk_id: int, seed: int) -> bytes:
    """A sort key that orders ids pseudo-randomly but the same way every time."""
    return hashlib.blake2b(f"{seed}:{chunk_id}".encode(), digest_size=8).digest()


def _sentence(text: str, chunk_id: int, *, min_words: int, max_words: int) -> str | None:
    """A prose sentence of the chunk (chosen by a hash of its id), or None if it has none."""
    candidates = []
    for raw in _SENTENCE.split(text):
        sentence = " ".join(raw.split())
        words = _WORD.findall(sentence)
        if min_words <= len(words) <= max_words and len(" ".join(words)) >= 0.6 * len(sentence):
            candidates.append(sentence)
    if not candidates:
        return None
    return candidates[int.from_bytes(stable_order(chunk_id, 1)[:4], "big") % len(candidates)]


def pseudo_queries(
    chunks: Sequence[tuple[int, str]], limit: int, *, seed: int = 0, min_words: int = 6, max_words: int = 30
) -> list[PseudoQuery]:
    """Up to `limit` pseudo-queries from (chunk id, chunk text) pairs: chunks taken in the order of a hash of
    their id, one prose sentence from each chunk that has one. Deterministic for the same chunks and seed."""
    ordered = sorted(chunks, key=lambda chunk: stable_order(chunk[0], seed))
    queries: list[PseudoQuery] = []
    for chunk_id, text in ordered:
        sentence = _sentence(text, chunk_id, min_words=min_words, max_words=max_words)
        if sentence is not None:
            queries.append(PseudoQuery(sentence, chunk_id))
            if len(queries) >= limit:
                break
    return queries


def _reciprocal_rank(ranked: Sequence[int], source: int, depth: int = 10) -> float:
    for rank, item_id in enumerate(ranked[:depth], start=1):
        if item_id == source:
            return 1.0 / rank
    return 0.0


def calibrate(
    searcher: CalibrationSearcher,
    embed_queries: Callable[[Sequence[str]], Vectors],
    queries: Sequence[PseudoQuery],
    *,
    chunk_count: int,
    generation: int,
    candidates: int = 100,
    query_weighting: QueryWeighting = "none",
) -> Calibration | None:
    """The dense weight in `WEIGHT_GRID` under which fusion ranks the pseudo-queries' sources best; ties go to
    the weight nearest 0.5. None without pseudo-queries."""
    if not queries:
        return None
    started = time.perf_counter()
    vectors = embed_queries([query.text for query in queries])
    lists = [
        (searcher.search_dense(vectors[i : i + 1], candidates), searcher.search_lexical(query.text, candidates))
        for i, query in enumerate(queries)
    ]
    n = len(queries)
    dense_mrr = sum(_reciprocal_rank([h.id for h in d], q.source) for q, (d, _) in zip(queries, lists, strict=True)) / n
    lexical_mrr = (
        sum(_reciprocal_rank([h.id for h in lx], q.source) for q, (_, lx) in zip(queries, lists, strict=True)) / n
    )
    scored: list[tuple[float, float]] = []
    for weight in WEIGHT_GRID:
        config = FusionConfig(dense_weight=weight, lexical_weight=1 - weight, query_weighting=query_weighting)
        mrr = sum(
            _reciprocal_rank([hit.id for hit in fuse(d, lx, config, 10)], q.source)
            for q, (d, lx) in zip(queries, lists, strict=True)
        )
        scored.append((mrr / n, weight))
    best_mrr, best_weight = max(scored, key=lambda item: (round(item[0], 6), -abs(item[1] - 0.5)))
    return Calibration(
        dense_weight=best_weight,
        lexical_weight=round(1 - best_weight, 1),
        chunk_count=chunk_count,
        generation=generation,
        pseudo_queries=n,
        dense_mrr=round(dense_mrr, 4),
        lexical_mrr=round(lexical_mrr, 4),
        fused_mrr=round(best_mrr, 4),
        seconds=round(time.perf_counter() - started, 3),
        query_weighting=query_weighting,
    )
