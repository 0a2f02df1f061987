"""Fusion of a dense and a lexical ranking into one.

- `rrf`: weighted reciprocal rank fusion, score = sum_i w_i / (k + rank_i).
- `convex`: per-query score normalisation then w_dense·dense + w_lexical·lexical (Bruch et al., 2023,
  "An Analysis of Fusion Functions for Hybrid Retrieval"). With `max` normalisation, dense cosine scores are
  kept as they are (floored at 0) and BM25 scores, which have no fixed scale, are divided by the query's best
  score; with `minmax`, each list is mapped onto [0, 1] between its worst and best candidate; with `dbsf`
  (distribution-based), onto [0, 1] between mean - 3σ and mean + 3σ of the list.
- `query_weighting="spread"` moves weight, per query, towards the ranker whose top scores stand out from the
  rest of its candidates (a flat top means the ranker cannot tell its candidates apart for this query: BM25
  on common words, an embedding on an off-topic question). See docs/decisions/0006-adaptive-fusion.md.
The weights themselves come from settings or from the datastore's calibration (`calibration.py`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from groundwork.retrieval.types import FusedHit, ScoredId

FusionMethod = Literal["rrf", "convex"]
Normalization = Literal["max", "minmax", "dbsf"]
QueryWeighting = Literal["none", "spread"]
SPREAD_DEPTH = 10
"""Ranks whose normalised scores `spread` weighting compares with the best one."""


@dataclass(frozen=True)
class FusionConfig:
    """How dense and lexical rankings are combined."""

    method: FusionMethod = "convex"
    """`convex` (normalised score combination) or `rrf` (reciprocal rank fusion)."""
    normalization: Normalization = "minmax"
    """How `convex` puts both score lists on one scale."""
    dense_weight: float = 0.5
    """Weight of the dense ranking."""
    lexical_weight: float = 0.5
    """Weight of the lexical ranking."""
    rrf_k: int = 60
    """RRF damping constant: larger flattens the difference between ranks."""
    query_weighting: QueryWeighting = "none"
    """`spread`: scale each ranker's weight by how far its best score stands above its next ones."""


def _ranks(hits: Sequence[ScoredId]) -> dict[int, tuple[int, float]]:
    ranks: dict[int, tuple[int, float]] = {}
    for rank, hit in enumerate(hits, start=1):
        ranks.setdefault(hit.id, (rank, hit.score))
    return ranks


def _scaler(hits: Sequence[ScoredId], normalization: Normalization, *, dense: bool) -> tuple[float, float]:
    """(offset, scale) so that (score - offset) / scale is the normalised score."""
    if not hits:
        return 0.0, 1.0
    best = hits[0].score
    if normalization == "minmax":
        worst = min(hit.score for hit in hits)
        return worst, (best - worst) or 1.0
    if normalization == "dbsf":
        scores = [hit.score for hit in hits]
        mean, sigma = statistics.fmean(scores), statistics.pstdev(scores)
        return mean - 3 * sigma, (6 * sigma) or 1.0
    if dense:  # cosine similarity of unit vectors: already on a fixed scale
        return 0.0, 1.0
    return 0.0, best if best > 0 else 1.0


def spread(hits: Sequence[ScoredId]) -> float:
    """How far the best score stands above the next `SPREAD_DEPTH - 1`, in [0, 1] of the list's own range
    (best - worst): 0 when the top is flat, 1 when only the first candidate scores above the worst."""
    if len(hits) < 2:
        return 1.0 if hits else 0.0
    best, worst = hits[0].score, min(hit.score for hit in hits)
    if best <= worst:
        return 0.0
    following = [hit.score for hit in hits[1:SPREAD_DEPTH]]
    return (best - statistics.fmean(following)) / (best - worst)


def query_weights(dense: Sequence[ScoredId], lexical: Sequence[ScoredId], config: FusionConfig) -> tuple[float, float]:
    """The (dense, lexical) weights for this query: the configured ones, or with `spread` weighting each
    scaled by its ranker's spread and renormalised to the configured total."""
    if config.query_weighting == "none":
        return config.dense_weight, config.lexical_weight
    dense_w, lexical_w = config.dense_weight * spread(dense), config.lexical_weight * spread(lexical)
    total = dense_w + lexical_w
    if total <= 0:
        return config.dense_weight, config.lexical_weight
    scale = (config.dense_weight + config.lexical_weight) / total
    return dense_w * scale, lexical_w * scale


def fuse(dense: Sequence[ScoredId], lexical: Sequence[ScoredId], config: FusionConfig, k: int) -> list[FusedHit]:
    """Fuse two rankings (best first) into the top `k` hits."""
    dense_ranks, lexical_ranks = _ranks(dense), _ranks(lexical)
    dense_offset, dense_scale = _scaler(dense, config.normalization, dense=True)
    lexical_offset, lexical_scale = _scaler(lexical, config.normalization, dense=False)
    dense_weight, lexical_weight = query_weights(dense, lexical, config)
    fused: list[FusedHit] = []
    for item_id in dense_ranks.keys() | lexical_ranks.keys():
        d = dense_ranks.get(item_id)
        lx = lexical_ranks.get(item_id)
        if config.method == "rrf":
            score = (dense_weight / (config.rrf_k + d[0]) if d else 0.0) + (
                lexical_weight / (config.rrf_k + lx[0]) if lx else 0.0
            )
        else:
            dense_part = min(max((d[1] - dense_offset) / dense_scale, 0.0), 1.0) if d else 0.0
            lexical_part = min(max((lx[1] - lexical_offset) / lexical_scale, 0.0), 1.0) if lx else 0.0
            score = dense_weight * dense_part + lexical_weight * lexical_part
        fused.append(
            FusedHit(
                id=item_id,
                score=score,
                dense_rank=d[0] if d else None,
                dense_score=d[1] if d else None,
                lexical_rank=lx[0] if lx else None,
                lexical_score=lx[1] if lx else None,
            )
        )
    fused.sort(key=lambda hit: (-hit.score, hit.id))
    return fused[:k]
