"""`VectorIndex` on FAISS with caller-chosen int64 ids.

Two index types:
- `flat` (default): exact inner-product search (`IndexIDMap2(IndexFlatIP)`).
- `ivf`: approximate, `IndexIVFFlat` with `nlist` inverted lists probed `nprobe` at a time. It needs training,
  so it stays exact until it holds `ivf_train_min` vectors, then trains on what it holds and switches.
Filters are applied before ranking with an `IDSelectorBatch` over the allowed ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from groundwork.retrieval.durable import atomic_write_bytes
from groundwork.retrieval.errors import IndexCorruptedError, InvalidQueryError
from groundwork.retrieval.protocols import IdArray, Vectors
from groundwork.retrieval.types import ScoredId

IndexType = Literal["flat", "ivf"]


@dataclass(frozen=True)
class FaissConfig:
    """How a FAISS index is built and searched."""

    index_type: IndexType = "flat"
    """`flat` is exact; `ivf` is approximate and fit for large datastores (millions of chunks)."""
    nlist: int = 0
    """Inverted lists for `ivf`; 0 picks about 4·sqrt(n) at training time."""
    nprobe: int = 32
    """Lists scanned per query for `ivf`: higher is slower and more exact."""
    ivf_train_min: int = 50_000
    """An `ivf` index stays exact until it holds this many vectors."""


class FaissVectorIndex:
    """A FAISS index that owns its ids. Not thread-safe for writes; callers serialise writers."""

    def __init__(self, dimension: int, config: FaissConfig | None = None) -> None:
        self._dimension = dimension
        self._config = config or FaissConfig()
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def is_approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexIVF)

    def add(self, ids: IdArray, vectors: Vectors) -> None:
        if len(ids) == 0:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self._dimension):
            raise InvalidQueryError(f"expected {len(ids)} vectors of dimension {self._dimension}")
        self.remove(ids)
        self._index.add_with_ids(vectors, ids)
        self._maybe_train_ivf()

    def remove(self, ids: IdArray) -> int:
        if len(ids) == 0 or self.count == 0:
            return 0
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        return int(self._index.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids))))

    def search(self, query: Vectors, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        if self.count == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params: Any = None
        selector: Any = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            allowed = np.ascontiguousarray(allowed, dtype=np.int64)
            selector = faiss.IDSelectorBatch(len(allowed), faiss.swig_ptr(allowed))
        if self.is_approximate:
            params = faiss.SearchParametersIVF()
            params.nprobe = self._config.nprobe
            if selector is not None:
                params.sel = selector
        elif selector is not None:
            params = faiss.SearchParameters()
            params.sel = selector
        scores, ids = self._index.search(query, min(k, self.count), params=params)
        return [ScoredId(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def ids(self) -> IdArray:
        """Every id stored (in no particular order)."""
        if self.is_approximate:
            invlists = self._index.invlists
            parts = [
                faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                for i in range(self._index.nlist)
                if invlists.list_size(i)
            ]
            return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def _maybe_train_ivf(self) -> None:
        config = self._config
        if config.index_type != "ivf" or self.is_approximate or self.count < config.ivf_train_min:
            return
        ids = self.ids()
        vectors = self._index.index.reconstruct_n(0, self.count)
        nlist = config.nlist or max(16, int(4 * math.sqrt(self.count)))
        quantizer = faiss.IndexFlatIP(self._dimension)
        ivf = faiss.IndexIVFFlat(quantizer, self._dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.max_points_per_centroid = 64  # train on a sample: k-means on every vector is needlessly slow
        ivf.train(vectors)
        ivf.add_with_ids(vectors, ids)
        ivf.nprobe = config.nprobe
        self._index = ivf

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, faiss.serialize_index(self._index).tobytes())

    @classmethod
    def load(cls, path: Path, dimension: int, config: FaissConfig | None = None) -> FaissVectorIndex:
        try:
            raw = np.frombuffer(path.read_bytes(), dtype=np.uint8)
            index: Any = faiss.deserialize_index(raw)
        except (OSError, RuntimeError) as exc:
            raise IndexCorruptedError(f"cannot read FAISS index {path}: {exc}") from exc
        if index.d != dimension:
            raise IndexCorruptedError(f"FAISS index {path} has dimension {index.d}, expected {dimension}")
        instance = cls(dimension, config)
        instance._index = index
        if instance.is_approximate and config is not None:
            index.nprobe = config.nprobe
        return instance
