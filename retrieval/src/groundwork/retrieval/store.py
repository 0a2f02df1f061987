"""One datastore's dense and lexical indexes, persisted together under a versioned manifest.

Layout of a datastore's index directory:
    manifest.json            written last; names the files of the current generation and their counts
    vectors-<gen>.faiss      FAISS index
    lexical/                 tantivy index (updated in place; each commit is atomic)
Changes are applied in memory and committed to tantivy per batch; a save writes the FAISS file of the new
generation crash-safely, then the manifest, then removes older FAISS files and the temp files of writes a
crash interrupted. A crash at any point leaves a manifest that names complete files; if tantivy moved on
past the manifest, the counts or the generation disagree with the metadata store and the index is rebuilt.
`load` checks the counts in the manifest against the files; on a mismatch it raises `IndexCorruptedError`
and the caller rebuilds from its source of truth (the metadata store).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from groundwork.retrieval.calibration import Calibration
from groundwork.retrieval.durable import atomic_write_bytes, fsync_directory
from groundwork.retrieval.errors import IndexCorruptedError, IndexNotFoundError
from groundwork.retrieval.faiss_index import FaissConfig, FaissVectorIndex
from groundwork.retrieval.protocols import IdArray, Vectors
from groundwork.retrieval.tantivy_index import TantivyLexicalIndex
from groundwork.retrieval.types import ScoredId

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LEXICAL_DIR = "lexical"


@dataclass(frozen=True)
class IndexManifest:
    """What a saved generation holds; `load` refuses files that disagree with it."""

    generation: int
    vector_count: int
    lexical_count: int
    dimension: int
    embedding_model: str
    vector_file: str
    lexical_file: str
    calibration: dict[str, Any] | None = None
    """The fusion calibration of this datastore (`Calibration.as_dict()`), if it has been calibrated."""


class HybridIndex:
    """FAISS + BM25 over the same chunk ids. Thread-safe; one writer at a time is the caller's contract."""

    def __init__(
        self,
        directory: Path,
        dimension: int,
        embedding_model: str,
        faiss_config: FaissConfig | None = None,
        *,
        generation: int = 0,
    ) -> None:
        self.directory = directory
        self.embedding_model = embedding_model
        self._faiss_config = faiss_config or FaissConfig()
        self._vectors = FaissVectorIndex(dimension, self._faiss_config)
        self._lexical = TantivyLexicalIndex(directory / LEXICAL_DIR)
        self._lock = threading.RLock()
        self.generation = generation
        self.calibration: Calibration | None = None
        """Fusion weights calibrated on this index's chunks; saved with (and loaded from) the manifest."""

    @property
    def dimension(self) -> int:
        return self._vectors.dimension

    @property
    def vector_count(self) -> int:
        return self._vectors.count

    @property
    def lexical_count(self) -> int:
        return self._lexical.count

    def apply(
        self,
        *,
        remove_ids: Sequence[int] = (),
        add_ids: Sequence[int] = (),
        vectors: Vectors | None = None,
        texts: Sequence[str] = (),
    ) -> None:
        """Remove then add chunks in both indexes and make the change visible to searches.

        `texts` are what BM25 sees, `vectors` what FAISS sees.
        """
        with self._lock:
            if remove_ids:
                self._vectors.remove(np.asarray(remove_ids, dtype=np.int64))
                self._lexical.remove(remove_ids)
            if add_ids:
                if vectors is None:
                    raise ValueError("vectors are required with add_ids")
                self._vectors.add(np.asarray(add_ids, dtype=np.int64), vectors)
                self._lexical.add(add_ids, texts)
            self._lexical.commit()

    def clear(self) -> None:
        with self._lock:
            self._vectors = FaissVectorIndex(self.dimension, self._faiss_config)
            self._lexical.clear()
            self._lexical.commit()

    def search_dense(self, query: Vectors, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        with self._lock:
            return self._vectors.search(query, k, allowed)

    def search_lexical(self, query: str, k: int, allowed: IdArray | None = None) -> list[ScoredId]:
        return self._lexical.search(query, k, allowed)

    def vector_ids(self) -> IdArray:
        with self._lock:
            return self._vectors.ids()

    def save(self, generation: int) -> IndexManifest:
        """Persist as `generation` (crash-safe; see the module docstring)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            vector_file, lexical_file = f"vectors-{generation}.faiss", LEXICAL_DIR
            self._vectors.save(self.directory / vector_file)
            self._lexical.commit()
            manifest = IndexManifest(
                generation=generation,
                vector_count=self._vectors.count,
                lexical_count=self._lexical.count,
                dimension=self.dimension,
                embedding_model=self.embedding_model,
                vector_file=vector_file,
                lexical_file=lexical_file,
                calibration=self.calibration.as_dict() if self.calibration else None,
            )
            atomic_write_bytes(self.directory / MANIFEST, json.dumps(asdict(manifest), indent=1).encode())
            self.generation = generation
        for stale in self.directory.glob("vectors-*.faiss"):
            if stale.name != vector_file:
                stale.unlink(missing_ok=True)
        # Temp files of writes a crash interrupted (`atomic_write_bytes` names them `.<name>.<pid>.tmp`);
        # only the data directory's lock holder writes here, and its own writes are done by now.
        for leftover in (*self.directory.glob(".vectors-*.tmp"), *self.directory.glob(f".{MANIFEST}.*.tmp")):
            leftover.unlink(missing_ok=True)
        fsync_directory(self.directory)
        return manifest

    def close(self) -> None:
        self._lexical.close()

    @classmethod
    def read_manifest(cls, directory: Path) -> IndexManifest:
        path = directory / MANIFEST
        if not path.exists():
            raise IndexNotFoundError(f"no index manifest in {directory}")
        try:
            return IndexManifest(**json.loads(path.read_bytes()))
        except (ValueError, TypeError) as exc:
            raise IndexCorruptedError(f"unreadable manifest {path}: {exc}") from exc

    @classmethod
    def load(cls, directory: Path, embedding_model: str, faiss_config: FaissConfig | None = None) -> HybridIndex:
        """Load the generation the manifest names; raise `IndexCorruptedError` if anything disagrees."""
        manifest = cls.read_manifest(directory)
        if manifest.embedding_model != embedding_model:
            raise IndexCorruptedError(
                f"index in {directory} was built with {manifest.embedding_model}, not {embedding_model}"
            )
        index = cls(directory, manifest.dimension, embedding_model, faiss_config, generation=manifest.generation)
        index._vectors = FaissVectorIndex.load(directory / manifest.vector_file, manifest.dimension, faiss_config)
        index.calibration = Calibration.from_dict(manifest.calibration) if manifest.calibration else None
        if (index.vector_count, index.lexical_count) != (manifest.vector_count, manifest.lexical_count):
            raise IndexCorruptedError(
                f"index in {directory} holds {index.vector_count} vectors and {index.lexical_count} texts; "
                f"manifest says {manifest.vector_count} and {manifest.lexical_count}"
            )
        return index
