"""The roles of the retrieval area. Implementations are adapters (FAISS, bm25s, sentence-transformers).

Constructors are cheap; anything heavy happens in `warm_up()` or `load()`, called by the composition root.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from groundwork.retrieval.types import ScoredId

Vectors = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


class Embedder(Protocol):
    """Turns text into L2-normalised vectors of a fixed dimension."""

    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    @property
    def model_name(self) -> str:
        """A stable name of the model (recorded with every index built from it)."""
        ...

    def warm_up(self) -> None:
        """Load the model. Must be called once before any other method."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries: shape (len(texts), dimension), float32, unit length."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed passages to be indexed: shape (len(texts), dimension), float32, unit length."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text` (without special tokens)."""
        ...

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per passage; text beyond this is truncated when embedded."""
        ...


class VectorIndex(Protocol):
    """Inner-product search over vectors addressed by caller-chosen int64 ids."""

    @property
    def count(self) -> int:
        """Number of vectors stored."""
        ...

    def add(self, ids: IdArray, vectors: Vectors) -> None:
        """Add vectors under `ids`; an id already present is replaced."""
        ...

    def remove(self, ids: IdArray) -> int:
        """Remove `ids` (absent ids are ignored); returns how many were removed."""
        ...

    def search(self, query: Vectors, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        """Top `k` ids for one query vector; with `allowed`, only those ids compete (filtered before ranking)."""
        ...

    def save(self, path: Path) -> None:
        """Write the index crash-safely to `path` (temp file, fsync, rename)."""
        ...


class LexicalIndex(Protocol):
    """BM25 search over texts addressed by caller-chosen int64 ids.

    `add` and `remove` stage changes; `commit` makes them visible to `search` (and, for persistent
    engines, durable).
    """

    @property
    def count(self) -> int:
        """Number of texts committed."""
        ...

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Stage texts under `ids`; an id already present is replaced."""
        ...

    def remove(self, ids: Sequence[int]) -> int:
        """Stage the removal of `ids` (absent ids are ignored)."""
        ...

    def commit(self) -> None:
        """Make staged changes visible to searches."""
        ...

    def search(self, query: str, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        """Top `k` ids by BM25; with `allowed`, only those ids compete (filtered before ranking). Any text is
        a valid query: query-language syntax is never interpreted."""
        ...


class Reranker(Protocol):
    """Re-scores a query's candidate passages with a model that reads the query against each passage
    (a cross-encoder, or late interaction over token embeddings). Runs after fusion on the top candidates,
    before the answer's context is built."""

    @property
    def model_name(self) -> str:
        """A stable name of the model."""
        ...

    def warm_up(self) -> None:
        """Load the model. Must be called once before `rerank`."""
        ...

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        """One score per passage, in the passages' order; higher is more relevant. Scores are comparable
        within one call only."""
        ...
