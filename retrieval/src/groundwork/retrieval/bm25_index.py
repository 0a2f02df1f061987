"""`LexicalIndex` on bm25s: the runner-up in docs/decisions/0001-lexical-engine.md, kept for `bench/`.

bm25s builds a static sparse matrix, so this class keeps each text's tokens and rebuilds the matrix
lazily on the first search after a change (bulk ingestion pays for one rebuild, not one per document).
Filters become a mask over the matrix rows before the top-k is taken.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from groundwork.retrieval.durable import atomic_write_bytes
from groundwork.retrieval.errors import IndexCorruptedError
from groundwork.retrieval.protocols import IdArray
from groundwork.retrieval.types import ScoredId

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-case, English stop words removed, Snowball-stemmed tokens."""
    if not texts:
        return []
    tokens: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    return tokens


class Bm25LexicalIndex:
    """BM25 (Lucene variant, k1=1.5, b=0.75 by default) with int64 ids."""

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        self._k1 = k1
        self._b = b
        self._tokens: dict[int, list[str]] = {}
        self._lock = threading.Lock()
        self._retriever: Any = None
        self._row_ids: IdArray = np.zeros(0, dtype=np.int64)
        self._dirty = True

    @property
    def count(self) -> int:
        return len(self._tokens)

    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self.add_tokens(ids, tokenize(texts))

    def add_tokens(self, ids: Sequence[int], tokens: Sequence[list[str]]) -> None:
        """Add pre-tokenised texts (see `tokenize`)."""
        with self._lock:
            for item_id, item_tokens in zip(ids, tokens, strict=True):
                self._tokens[int(item_id)] = item_tokens
            self._dirty = True

    def remove(self, ids: Sequence[int]) -> int:
        with self._lock:
            removed = sum(1 for item_id in ids if self._tokens.pop(int(item_id), None) is not None)
            if removed:
                self._dirty = True
            return removed

    def commit(self) -> None:
        """Rebuild the BM25 matrix now (searches would otherwise rebuild it lazily)."""
        with self._lock:
            if self._dirty:
                self._rebuild()

    def ids(self) -> IdArray:
        with self._lock:
            return np.fromiter(self._tokens.keys(), dtype=np.int64, count=len(self._tokens))

    def _rebuild(self) -> None:
        row_ids = np.fromiter(self._tokens.keys(), dtype=np.int64, count=len(self._tokens))
        retriever = bm25s.BM25(k1=self._k1, b=self._b)
        if len(row_ids):
            # An empty token list would make bm25s drop the row; a sentinel keeps rows aligned with ids.
            corpus = [tokens or ["\x00"] for tokens in self._tokens.values()]
            retriever.index(corpus, show_progress=False)
        self._retriever = retriever
        self._row_ids = row_ids
        self._dirty = False

    def search(self, query: str, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        query_tokens = tokenize([query])[0]
        with self._lock:
            if self._dirty:
                self._rebuild()
            if not len(self._row_ids) or k <= 0:
                return []
            vocab = self._retriever.vocab_dict
            known = [token for token in query_tokens if token in vocab]
            if not known:
                return []
            scores = np.asarray(self._retriever.get_scores(known), dtype=np.float32)
            row_ids = self._row_ids
        if allowed is not None:
            scores = np.where(np.isin(row_ids, allowed), scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            top = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[top]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [ScoredId(int(row_ids[row]), float(scores[row])) for row in order]

    def save(self, path: Path) -> None:
        with self._lock:
            payload = {"format": 1, "ids": list(self._tokens.keys()), "tokens": list(self._tokens.values())}
        atomic_write_bytes(path, json.dumps(payload, separators=(",", ":")).encode())

    @classmethod
    def load(cls, path: Path) -> Bm25LexicalIndex:
        try:
            payload = json.loads(path.read_bytes())
            ids, tokens = payload["ids"], payload["tokens"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptedError(f"cannot read lexical index {path}: {exc}") from exc
        index = cls()
        index.add_tokens(ids, tokens)
        return index
