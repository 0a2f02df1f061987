from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from groundwork.retrieval.errors import IndexCorruptedError, IndexNotFoundError
from groundwork.retrieval.store import MANIFEST, HybridIndex


def vectors(n: int, dim: int = 8) -> np.ndarray:
    data = np.random.default_rng(0).normal(size=(n, dim)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def test_save_then_load_restores_both_indexes(tmp_path: Path) -> None:
    index = HybridIndex(tmp_path, 8, "model-a")
    index.apply(add_ids=[1, 2, 3], vectors=vectors(3), texts=["red apples", "green pears", "red cherries"])
    manifest = index.save(generation=7)
    assert (manifest.vector_count, manifest.lexical_count, manifest.generation) == (3, 3, 7)
    index.close()
    loaded = HybridIndex.load(tmp_path, "model-a")
    assert loaded.generation == 7
    assert {h.id for h in loaded.search_lexical("red", 5)} == {1, 3}
    assert loaded.search_dense(vectors(3)[1], 1)[0].id == 2
    assert sorted(p.name for p in tmp_path.glob("vectors-*")) == ["vectors-7.faiss"]


def test_load_refuses_an_index_that_disagrees_with_its_manifest(tmp_path: Path) -> None:
    index = HybridIndex(tmp_path, 8, "model-a")
    index.apply(add_ids=[1, 2], vectors=vectors(2), texts=["a b", "c d"])
    index.save(generation=1)
    index.apply(add_ids=[3], vectors=vectors(1), texts=["e f"])  # lexical moves past the manifest
    index.close()
    with pytest.raises(IndexCorruptedError):
        HybridIndex.load(tmp_path, "model-a")


def test_load_refuses_another_embedding_model_and_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        HybridIndex.load(tmp_path / "nothing", "model-a")
    index = HybridIndex(tmp_path, 8, "model-a")
    index.save(generation=1)
    index.close()
    with pytest.raises(IndexCorruptedError):
        HybridIndex.load(tmp_path, "model-b")
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["vector_count"] = 5
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptedError):
        HybridIndex.load(tmp_path, "model-a")
