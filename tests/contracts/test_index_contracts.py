"""Contract suites every `VectorIndex` and `LexicalIndex` implementation must pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from groundwork.retrieval.bm25_index import Bm25LexicalIndex
from groundwork.retrieval.faiss_index import FaissConfig, FaissVectorIndex
from groundwork.retrieval.protocols import LexicalIndex, VectorIndex
from groundwork.retrieval.tantivy_index import TantivyLexicalIndex

DIM = 32


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, DIM))
    data = (centres[rng.integers(0, 8, n)] + 0.2 * rng.normal(size=(n, DIM))).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


VECTOR_INDEXES: dict[str, Callable[[], VectorIndex]] = {
    "faiss-flat": lambda: FaissVectorIndex(DIM),
    "faiss-ivf": lambda: FaissVectorIndex(DIM, FaissConfig(index_type="ivf", nlist=8, nprobe=8, ivf_train_min=300)),
}
LEXICAL_INDEXES: dict[str, Callable[[Path], LexicalIndex]] = {
    "tantivy": lambda path: TantivyLexicalIndex(path / "lexical"),
    "bm25s": lambda _path: Bm25LexicalIndex(),
}


@pytest.fixture(params=list(VECTOR_INDEXES))
def vector_index(request: pytest.FixtureRequest) -> VectorIndex:
    return VECTOR_INDEXES[request.param]()


@pytest.fixture(params=list(LEXICAL_INDEXES))
def lexical_index(request: pytest.FixtureRequest, tmp_path: Path) -> LexicalIndex:
    return LEXICAL_INDEXES[request.param](tmp_path)


def test_vector_index_contract(vector_index: VectorIndex, tmp_path: Path) -> None:
    data = clustered(400)
    ids = np.arange(10_000, 10_400, dtype=np.int64)
    vector_index.add(ids, data)
    assert vector_index.count == 400
    assert vector_index.search(data[17], 1)[0].id == 10_017
    hits = vector_index.search(data[17], 10)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    vector_index.add(ids[:1], data[1:2])  # replace: still one entry per id
    assert vector_index.count == 400
    assert vector_index.remove(ids[:5]) == 5
    assert vector_index.count == 395
    assert all(h.id not in set(ids[:5].tolist()) for h in vector_index.search(data[2], 50))
    allowed = ids[100:103]
    assert {h.id for h in vector_index.search(data[17], 10, allowed)} <= set(allowed.tolist())
    assert vector_index.search(data[17], 10, np.zeros(0, dtype=np.int64)) == []
    vector_index.save(tmp_path / "v.faiss")
    assert (tmp_path / "v.faiss").stat().st_size > 0


def test_lexical_index_contract(lexical_index: LexicalIndex) -> None:
    lexical_index.add([1, 2, 3, 4], ["replica sets in kubernetes", "state stores", "kubernetes secrets", "pubsub"])
    lexical_index.commit()
    assert lexical_index.count == 4
    hits = lexical_index.search("kubernetes", 10)
    assert {h.id for h in hits} == {1, 3}
    assert all(h.score > 0 for h in hits)
    assert {h.id for h in lexical_index.search("kubernetes", 10, np.array([3], dtype=np.int64))} == {3}
    assert lexical_index.search("kubernetes", 10, np.zeros(0, dtype=np.int64)) == []
    lexical_index.remove([3])
    lexical_index.add([1], ["nothing relevant"])
    lexical_index.commit()
    assert lexical_index.count == 3
    assert lexical_index.search("kubernetes", 10) == []
    for text in ['"unbalanced', "a AND (b", "x:y", "", "   ", "\xa0"]:
        lexical_index.search(text, 5)  # never raises
