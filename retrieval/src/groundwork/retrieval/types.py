"""Value types shared by the retrieval components."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SearchMode(StrEnum):
    """Which index (or both) answers a search."""

    DENSE = "dense"
    LEXICAL = "lexical"
    HYBRID = "hybrid"


@dataclass(frozen=True, slots=True)
class ScoredId:
    """An item id (a chunk id) with the score one ranker gave it; higher is better."""

    id: int
    score: float


@dataclass(frozen=True, slots=True)
class FusedHit:
    """A fused result: the final score and the rank (1-based) and raw score in each ranker, if it appeared."""

    id: int
    score: float
    dense_rank: int | None = None
    dense_score: float | None = None
    lexical_rank: int | None = None
    lexical_score: float | None = None
