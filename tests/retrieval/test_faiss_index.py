from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from groundwork.retrieval.errors import IndexCorruptedError
from groundwork.retrieval.faiss_index import FaissConfig, FaissVectorIndex


def unit(rows: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_exact_search_returns_the_nearest_ids_we_chose() -> None:
    index = FaissVectorIndex(16)
    vectors = unit(50)
    ids = np.arange(1000, 1050, dtype=np.int64)
    index.add(ids, vectors)
    hits = index.search(vectors[7], 3)
    assert hits[0].id == 1007
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert index.count == 50


def test_adding_an_existing_id_replaces_it_and_remove_deletes() -> None:
    index = FaissVectorIndex(16)
    vectors = unit(3)
    index.add(np.array([1, 2, 3]), vectors)
    index.add(np.array([2]), vectors[[0]])
    assert index.count == 3
    assert {h.id for h in index.search(vectors[0], 2)} == {1, 2}
    assert index.remove(np.array([1, 99])) == 1
    assert index.count == 2
    assert index.search(vectors[0], 5)[0].id == 2


def test_allowed_ids_are_applied_before_ranking() -> None:
    index = FaissVectorIndex(16)
    vectors = unit(100)
    index.add(np.arange(100), vectors)
    allowed = np.array([90, 91, 92], dtype=np.int64)
    hits = index.search(vectors[5], 10, allowed)
    assert sorted(h.id for h in hits) == [90, 91, 92]
    assert index.search(vectors[5], 10, np.array([], dtype=np.int64)) == []


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = FaissVectorIndex(16)
    vectors = unit(20)
    index.add(np.arange(20) * 7, vectors)
    index.save(tmp_path / "v.faiss")
    loaded = FaissVectorIndex.load(tmp_path / "v.faiss", 16)
    assert loaded.count == 20
    assert loaded.search(vectors[3], 1)[0].id == 21
    assert sorted(loaded.ids().tolist()) == sorted((np.arange(20) * 7).tolist())


def test_a_torn_file_is_refused(tmp_path: Path) -> None:
    index = FaissVectorIndex(16)
    index.add(np.arange(20), unit(20))
    index.save(tmp_path / "v.faiss")
    raw = (tmp_path / "v.faiss").read_bytes()
    (tmp_path / "v.faiss").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IndexCorruptedError):
        FaissVectorIndex.load(tmp_path / "v.faiss", 16)


def test_ivf_switches_to_approximate_search_and_keeps_recall() -> None:
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(20, 32)).astype(np.float32)
    data = centers[rng.integers(0, 20, 4000)] + 0.3 * rng.normal(size=(4000, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ivf = FaissVectorIndex(32, FaissConfig(index_type="ivf", nlist=32, nprobe=8, ivf_train_min=2000))
    exact = FaissVectorIndex(32)
    ids = np.arange(4000, dtype=np.int64)
    ivf.add(ids[:1000], data[:1000])
    assert not ivf.is_approximate
    ivf.add(ids[1000:], data[1000:])
    exact.add(ids, data)
    assert ivf.is_approximate and ivf.count == 4000
    recall = np.mean(
        [len({h.id for h in ivf.search(q, 10)} & {h.id for h in exact.search(q, 10)}) / 10 for q in data[:50]]
    )
    assert recall >= 0.9
    assert ivf.remove(np.array([0, 1, 2])) == 3
    assert ivf.count == 3997
    allowed = np.array([10, 20, 30], dtype=np.int64)
    assert {h.id for h in ivf.search(data[10], 10, allowed)} <= {10, 20, 30}
