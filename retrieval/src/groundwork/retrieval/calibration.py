"""Per-datastore fusion weights from pseudo-queries drawn from the datastore's own chunks (no labels).

A deterministic sample of chunks each yields one pseudo-query (a prose sentence of the chunk, see
`pseudo_queries`). Asked as it is, the chunk it came from is trivially found by BM25 (its own words), so
`held_out` turns it into an inverse-cloze query: the answers are the other chunks of the same document and
the source chunk is removed from both rankings. Each ranker alone and each convex min-max weight of a fixed
grid is scored by the mean reciprocal rank of the answers. Measured on four sets, the best pseudo-query
weight still leans towards BM25 compared with real questions, so it is applied only as a guard: when the
weaker ranker's MRR is below `guard` times the stronger one's (a ranker that clearly fails on this
datastore: another language, codes, a mismatched model), else the configured prior stays. Sampling is by a
hash of the chunk id, so the same chunks give the same calibration; the result is stored in the index
manifest with the generation it was computed at. Evidence: docs/decisions/0006-adaptive-fusion.md.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from groundwork.retrieval.hybrid import FusionConfig, fuse
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
    """Id of the chunk the query was drawn from: its one relevant answer, unless `relevant` is set."""
    relevant: frozenset[int] = frozenset()
    """If set (`held_out`), the answers instead; the source chunk is then removed from both rankings, so
    the query no longer finds its own words verbatim (inverse-cloze style)."""

    def score(self, ranked: Sequence[int], depth: int = 10) -> float:
        """Reciprocal rank of the first answer within `depth`."""
        answers = self.relevant or {self.source}
        kept = [item for item in ranked if not self.relevant or item != self.source]
        for rank, item_id in enumerate(kept[:depth], start=1):
            if item_id in answers:
                return 1.0 / rank
        return 0.0


def held_out(queries: Sequence[PseudoQuery], siblings: Mapping[int, Sequence[int]]) -> list[PseudoQuery]:
    """Each query whose source chunk has siblings (the other chunks of its document) asks for those instead."""
    moved = []
    for query in queries:
        others = frozenset(siblings.get(query.source, ())) - {query.source}
        if others:
            moved.append(PseudoQuery(query.text, query.source, others))
    return moved


@dataclass(frozen=True)
class Calibration:
    """The outcome of one calibration, as stored in the index manifest."""

    dense_weight: float
    """The dense weight searches use: `best_weight` when the guard tripped, else the prior."""
    lexical_weight: float
    chunk_count: int
    """Chunks in the index when it was calibrated (re-calibration is due once it has grown enough)."""
    generation: int
    pseudo_queries: int
    dense_mrr: float
    """MRR@10 of the pseudo-queries' answers, dense ranking alone."""
    lexical_mrr: float
    fused_mrr: float
    """MRR@10 with `best_weight`."""
    seconds: float
    best_weight: float = 0.5
    """The grid weight that ranked the pseudo-queries' answers best."""
    prior: float = 0.5
    """The configured dense weight, kept unless one ranker clearly fails on this datastore."""
    guard_tripped: bool = False
    """Whether the weaker ranker's MRR fell below `guard` x the stronger one's (then `best_weight` applies)."""

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


def _answer_ranks(
    query: PseudoQuery, dense: Sequence[ScoredId], lexical: Sequence[ScoredId], weights: Sequence[float]
) -> list[float]:
    """Reciprocal rank (at 10) of the query's best-placed answer under convex min-max fusion, per weight."""
    empty = FusionConfig()
    candidates = {hit.id: [0.0, 0.0] for hit in (*dense, *lexical) if not query.relevant or hit.id != query.source}
    for column, hits in enumerate((dense, lexical)):
        kept = [hit for hit in hits if hit.id in candidates]
        for hit in fuse(kept, [], empty, len(kept)) if column == 0 else fuse([], kept, empty, len(kept)):
            candidates[hit.id][column] = hit.score / 0.5  # `fuse` with default weights halves the part
    answers = query.relevant or {query.source}
    ids = sorted(candidates)
    matrix = np.asarray([candidates[i] for i in ids], dtype=np.float64).reshape(-1, 2)
    is_answer = np.asarray([i in answers for i in ids])
    ranks = []
    for weight in weights:
        if not is_answer.any():
            ranks.append(0.0)
            continue
        fused = matrix @ np.asarray([weight, 1 - weight])
        best = fused[is_answer].max()
        rank = int((fused > best).sum()) + 1
        ranks.append(1.0 / rank if rank <= 10 else 0.0)
    return ranks


def calibrate(
    searcher: CalibrationSearcher,
    embed_queries: Callable[[Sequence[str]], Vectors],
    queries: Sequence[PseudoQuery],
    *,
    chunk_count: int,
    generation: int,
    candidates: int = 100,
    prior: float = 0.5,
    guard: float = 0.5,
) -> Calibration | None:
    """Score every dense weight of `WEIGHT_GRID` (and 0 and 1: each ranker alone) on the pseudo-queries.
    The weight searches use stays `prior` unless the weaker ranker's MRR is below `guard` times the stronger
    one's; then it is the best grid weight (ties: nearest the prior). None without pseudo-queries."""
    if not queries:
        return None
    started = time.perf_counter()
    vectors = embed_queries([query.text for query in queries])
    weights = (0.0, *WEIGHT_GRID, 1.0)
    totals = np.zeros(len(weights))
    for i, query in enumerate(queries):
        dense = searcher.search_dense(vectors[i : i + 1], candidates)
        lexical = searcher.search_lexical(query.text, candidates)
        totals += np.asarray(_answer_ranks(query, dense, lexical, weights))
    mrr = totals / len(queries)
    lexical_mrr, dense_mrr = float(mrr[0]), float(mrr[-1])
    grid = list(zip(weights[1:-1], mrr[1:-1], strict=True))
    best_weight, best_mrr = max(grid, key=lambda item: (round(float(item[1]), 6), -abs(item[0] - prior)))
    tripped = min(dense_mrr, lexical_mrr) < guard * max(dense_mrr, lexical_mrr)
    dense_weight = best_weight if tripped else prior
    return Calibration(
        dense_weight=dense_weight,
        lexical_weight=round(1 - dense_weight, 3),
        chunk_count=chunk_count,
        generation=generation,
        pseudo_queries=len(queries),
        dense_mrr=round(dense_mrr, 4),
        lexical_mrr=round(lexical_mrr, 4),
        fused_mrr=round(float(best_mrr), 4),
        seconds=round(time.perf_counter() - started, 3),
        best_weight=best_weight,
        prior=prior,
        guard_tripped=tripped,
    )
