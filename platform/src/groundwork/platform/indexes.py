"""Per-datastore indexes, kept consistent with the metadata store.

The metadata store is the source of truth: chunk rows carry their vectors, and each datastore has an
`index_generation` bumped by every transaction that changes its chunks. A saved index records the generation
it reflects. Loading compares the two; if the index is missing, unreadable, disagrees with its manifest or lags
the metadata store (a crash between a metadata commit and the next checkpoint), it is rebuilt from the chunk
rows without re-embedding. Only the process holding the data directory lock writes indexes.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import select

from groundwork.platform.db.models import Chunk, Datastore, Document
from groundwork.platform.db.session import Database
from groundwork.platform.errors import NotFoundError
from groundwork.retrieval.errors import IndexCorruptedError, IndexNotFoundError
from groundwork.retrieval.faiss_index import FaissConfig
from groundwork.retrieval.store import HybridIndex

logger = logging.getLogger(__name__)


def contextual_text(title: str, heading_path: Sequence[str], text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its document title and headings give it context."""
    context = [part for part in (title, *heading_path) if part]
    deduped = [part for i, part in enumerate(context) if i == 0 or part != context[i - 1]]
    return "\n".join([" > ".join(deduped), text]) if deduped else text


class IndexManager:
    """Loads, rebuilds, checkpoints and serialises writes to each datastore's `HybridIndex`."""

    def __init__(
        self,
        root: Path,
        database: Database,
        *,
        dimension: int,
        embedding_model: str,
        faiss_config: FaissConfig,
        checkpoint_interval: float,
    ) -> None:
        self._root = root
        self._db = database
        self._dimension = dimension
        self._model = embedding_model
        self._faiss_config = faiss_config
        self._checkpoint_interval = checkpoint_interval
        self._indexes: dict[str, HybridIndex] = {}
        self._write_locks: dict[str, threading.RLock] = {}
        self._last_checkpoint: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._guard = threading.Lock()

    def directory(self, datastore_id: str) -> Path:
        return self._root / datastore_id

    def _lock_for(self, datastore_id: str) -> threading.RLock:
        with self._guard:
            return self._write_locks.setdefault(datastore_id, threading.RLock())

    @contextmanager
    def writing(self, datastore_id: str) -> Iterator[HybridIndex]:
        """Exclusive write access to one datastore's index (one writer per index)."""
        with self._lock_for(datastore_id):
            yield self.get(datastore_id)

    def get(self, datastore_id: str) -> HybridIndex:
        """The datastore's index, loaded or rebuilt on first use."""
        index = self._indexes.get(datastore_id)
        if index is not None:
            return index
        with self._lock_for(datastore_id):
            index = self._indexes.get(datastore_id)
            if index is None:
                index = self._open(datastore_id)
                self._indexes[datastore_id] = index
            return index

    def _generation(self, datastore_id: str) -> int:
        with self._db.session() as session:
            generation = session.scalar(select(Datastore.index_generation).where(Datastore.id == datastore_id))
        if generation is None:
            raise NotFoundError(f"datastore {datastore_id} not found")
        return int(generation)

    def _open(self, datastore_id: str) -> HybridIndex:
        generation = self._generation(datastore_id)
        directory = self.directory(datastore_id)
        try:
            index = HybridIndex.load(directory, self._model, self._faiss_config)
        except IndexNotFoundError:
            if generation == 0:
                return HybridIndex(directory, self._dimension, self._model, self._faiss_config)
            logger.warning("index of datastore %s is missing; rebuilding from metadata", datastore_id)
        except IndexCorruptedError as exc:
            logger.warning("index of datastore %s refused to load (%s); rebuilding from metadata", datastore_id, exc)
        else:
            if index.generation == generation:
                return index
            logger.warning(
                "index of datastore %s is at generation %d, metadata at %d; rebuilding",
                datastore_id,
                index.generation,
                generation,
            )
        return self._rebuild(datastore_id)

    def _rebuild(self, datastore_id: str) -> HybridIndex:
        started = time.perf_counter()
        stale = self._indexes.pop(datastore_id, None)
        if stale is not None:
            stale.close()
        index = HybridIndex(self.directory(datastore_id), self._dimension, self._model, self._faiss_config)
        index.clear()
        with self._db.session() as session:
            generation = int(
                session.scalar(select(Datastore.index_generation).where(Datastore.id == datastore_id)) or 0
            )
            rows = session.execute(
                select(Chunk.id, Chunk.embedding, Chunk.text, Chunk.heading_path, Document.title)
                .join(Document, Document.id == Chunk.document_id)
                .where(Chunk.datastore_id == datastore_id)
                .execution_options(yield_per=5000)
            )
            for batch in rows.partitions(5000):
                ids = [row.id for row in batch]
                vectors = np.frombuffer(b"".join(row.embedding for row in batch), dtype=np.float32)
                texts = [contextual_text(row.title, row.heading_path, row.text) for row in batch]
                index.apply(add_ids=ids, vectors=vectors.reshape(len(ids), self._dimension), texts=texts)
        index.save(generation)
        logger.info(
            "rebuilt index of datastore %s: %d chunks in %.1fs",
            datastore_id,
            index.vector_count,
            time.perf_counter() - started,
        )
        return index

    def rebuild(self, datastore_id: str) -> HybridIndex:
        with self._lock_for(datastore_id):
            index = self._rebuild(datastore_id)
            self._indexes[datastore_id] = index
            return index

    def committed(self, datastore_id: str, generation: int) -> None:
        """Called with the write lock held after a metadata commit applied to the in-memory index."""
        index = self._indexes[datastore_id]
        index.generation = generation
        self._dirty.add(datastore_id)
        if time.monotonic() - self._last_checkpoint.get(datastore_id, 0.0) >= self._checkpoint_interval:
            self._save(datastore_id)

    def _save(self, datastore_id: str) -> None:
        index = self._indexes.get(datastore_id)
        if index is None or datastore_id not in self._dirty:
            return
        index.save(index.generation)
        self._dirty.discard(datastore_id)
        self._last_checkpoint[datastore_id] = time.monotonic()

    def checkpoint(self, datastore_id: str | None = None) -> None:
        """Write dirty indexes to disk now (all of them, or one)."""
        targets = [datastore_id] if datastore_id else list(self._dirty)
        for target in targets:
            with self._lock_for(target):
                self._save(target)

    def drop(self, datastore_id: str) -> None:
        with self._lock_for(datastore_id):
            index = self._indexes.pop(datastore_id, None)
            if index is not None:
                index.close()
            self._dirty.discard(datastore_id)
            shutil.rmtree(self.directory(datastore_id), ignore_errors=True)

    def close(self) -> None:
        self.checkpoint()
        for index in self._indexes.values():
            index.close()
