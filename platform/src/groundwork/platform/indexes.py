"""Per-datastore indexes, kept consistent with the metadata store.

The metadata store is the source of truth: chunk rows carry their vectors, and each datastore has an
`index_generation` bumped by every transaction that changes its chunks. A saved index records the generation
it reflects. Loading compares the two; if the index is missing, unreadable, disagrees with its manifest or lags
the metadata store (a crash between a metadata commit and the next checkpoint), it is rebuilt from the chunk
rows without re-embedding.

Two modes. `exclusive` (embedded default): this process holds the data directory lock, keeps each index in
memory and checkpoints it every `checkpoint_interval`. `shared` (scale-out): API and worker processes share
the index directory. A writer takes the datastore's cross-process write lock (`flock` on
`<root>/<datastore>.lock`, released by the kernel if the process dies), brings its copy up to the metadata
store's generation (reloading what another process saved, or rebuilding after a writer crashed), applies the
change, saves the files and the manifest before releasing the lock, and closes its tantivy writer. Readers
never take the lock to search: every `index_refresh` seconds they read the manifest and, when its generation
moved, load the new files; a load that disagrees with its manifest (a writer is between its tantivy commit and
its manifest) is dropped and the previous generation kept, so a search never sees a half-written index.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import select

from groundwork.platform.calibration import Calibrator
from groundwork.platform.db.models import Chunk, Datastore, Document
from groundwork.platform.db.session import Database
from groundwork.platform.errors import EmbeddingMismatchError, NotFoundError
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
        mode: Literal["exclusive", "shared"] = "exclusive",
        refresh_interval: float = 2.0,
        calibrator: Calibrator | None = None,
    ) -> None:
        self._root = root
        self._calibrator = calibrator
        self.mode = mode
        self._refresh_interval = refresh_interval
        self._checked: dict[str, float] = {}
        self._held: dict[str, int] = {}
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
    def _process_lock(self, datastore_id: str) -> Iterator[None]:
        """The cross-process write lock of one datastore (shared mode); re-entrant within this process
        (callers hold `_lock_for(datastore_id)`, so only one thread gets here at a time)."""
        if self.mode != "shared" or self._held.get(datastore_id, 0):
            self._held[datastore_id] = self._held.get(datastore_id, 0) + 1
            try:
                yield
            finally:
                self._held[datastore_id] -= 1
            return
        self._root.mkdir(parents=True, exist_ok=True)
        with open(self._root / f"{datastore_id}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._held[datastore_id] = 1
            try:
                yield
            finally:
                self._held[datastore_id] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def writing(self, datastore_id: str) -> Iterator[HybridIndex]:
        """Exclusive write access to one datastore's index (one writer per index, across processes in
        shared mode)."""
        with self._lock_for(datastore_id), self._process_lock(datastore_id):
            if self.mode == "shared":
                index = self._fresh(datastore_id)
                try:
                    yield index
                finally:
                    if self._held.get(datastore_id, 0) == 1:
                        # Saved by `committed`; let the next process take tantivy's writer lock.
                        index.close()
                return
            yield self.get(datastore_id)

    def _fresh(self, datastore_id: str) -> HybridIndex:
        """Shared mode, write lock held: this process's copy at the metadata store's generation."""
        index = self._indexes.get(datastore_id)
        if (
            index is None
            or index.generation != self._generation(datastore_id)
            or self._saved_generation(datastore_id) != index.generation
        ):
            if index is not None:
                index.close()
            index = self._open(datastore_id)
            if self._saved_generation(datastore_id) != index.generation:
                index.save(index.generation)
            self._indexes[datastore_id] = index
            self._checked[datastore_id] = time.monotonic()
        return index

    def _saved_generation(self, datastore_id: str) -> int | None:
        try:
            return HybridIndex.read_manifest(self.directory(datastore_id)).generation
        except (IndexNotFoundError, IndexCorruptedError):
            return None

    def get(self, datastore_id: str) -> HybridIndex:
        """The datastore's index, loaded or rebuilt on first use (shared mode: refreshed when a newer
        generation has been saved by another process)."""
        index = self._indexes.get(datastore_id)
        if index is not None:
            if self.mode == "shared":
                return self._refreshed(datastore_id, index)
            return index
        with self._lock_for(datastore_id):
            index = self._indexes.get(datastore_id)
            if index is None:
                if self.mode == "shared":
                    with self._process_lock(datastore_id):
                        index = self._fresh(datastore_id)
                        index.close()
                    return index
                index = self._open(datastore_id)
                self._indexes[datastore_id] = index
            return index

    def _refreshed(self, datastore_id: str, index: HybridIndex) -> HybridIndex:
        now = time.monotonic()
        if now - self._checked.get(datastore_id, 0.0) < self._refresh_interval:
            return index
        self._checked[datastore_id] = now
        saved = self._saved_generation(datastore_id)
        if saved is None or saved == index.generation:
            return index
        lock = self._lock_for(datastore_id)
        if not lock.acquire(blocking=False):
            return index  # this process is writing the datastore: its copy is the newest
        try:
            try:
                loaded = HybridIndex.load(self.directory(datastore_id), self._model, self._faiss_config)
            except (IndexNotFoundError, IndexCorruptedError) as exc:
                logger.info(
                    "index of datastore %s is being written (%s); keeping generation %d",
                    datastore_id,
                    exc,
                    index.generation,
                )
                return index
            current = self._indexes.get(datastore_id)
            if current is not None and current.generation >= loaded.generation:
                return current
            self._indexes[datastore_id] = loaded
        finally:
            lock.release()
        logger.debug("datastore %s: index generation %d -> %d", datastore_id, index.generation, loaded.generation)
        return loaded

    def check_embedding(self, datastore_id: str) -> None:
        """Refuse a datastore whose vectors another model, backend or precision computed (never mix them); a
        datastore without chunks simply adopts this process's embedding."""
        with self._db.session() as session:
            datastore = session.get(Datastore, datastore_id)
            if datastore is None:
                raise NotFoundError(f"datastore {datastore_id} not found")
            if datastore.embedding_model == self._model:
                return
            if session.scalar(select(Chunk.id).where(Chunk.datastore_id == datastore_id).limit(1)) is None:
                datastore.embedding_model = self._model
                return
            raise EmbeddingMismatchError(
                f"datastore {datastore.name!r} holds vectors of {datastore.embedding_model}, but this process embeds "
                f"with {self._model} (embedding.model / embedding.backend / embedding.precision): set those back, "
                f"or re-embed it with `groundwork reembed {datastore.name}`"
            )

    def _generation(self, datastore_id: str) -> int:
        with self._db.session() as session:
            generation = session.scalar(select(Datastore.index_generation).where(Datastore.id == datastore_id))
        if generation is None:
            raise NotFoundError(f"datastore {datastore_id} not found")
        return int(generation)

    def _open(self, datastore_id: str) -> HybridIndex:
        self.check_embedding(datastore_id)
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
        index.generation = generation
        if self._calibrator is not None:
            self._calibrator.maybe_calibrate(datastore_id, index)
        index.save(generation)
        logger.info(
            "rebuilt index of datastore %s: %d chunks in %.1fs",
            datastore_id,
            index.vector_count,
            time.perf_counter() - started,
        )
        return index

    def rebuild(self, datastore_id: str) -> HybridIndex:
        with self._lock_for(datastore_id), self._process_lock(datastore_id):
            index = self._rebuild(datastore_id)
            self._indexes[datastore_id] = index
            if self.mode == "shared":
                index.close()
            return index

    def committed(self, datastore_id: str, generation: int) -> None:
        """Called with the write lock held after a metadata commit applied to the in-memory index. Shared
        mode saves at once: the next writer may be another process, and readers load what is saved."""
        index = self._indexes[datastore_id]
        index.generation = generation
        if self._calibrator is not None:
            self._calibrator.maybe_calibrate(datastore_id, index)
        self._dirty.add(datastore_id)
        if (
            self.mode == "shared"
            or time.monotonic() - self._last_checkpoint.get(datastore_id, 0.0) >= self._checkpoint_interval
        ):
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

    @contextmanager
    def exclusive(self, datastore_id: str) -> Iterator[None]:
        """Hold the datastore's write lock with its index unloaded (a re-embed rewrites every vector); the
        next `get` loads it again, rebuilt from the metadata store."""
        with self._lock_for(datastore_id), self._process_lock(datastore_id):
            index = self._indexes.pop(datastore_id, None)
            if index is not None:
                index.close()
            self._dirty.discard(datastore_id)
            yield

    def drop(self, datastore_id: str) -> None:
        with self._lock_for(datastore_id), self._process_lock(datastore_id):
            index = self._indexes.pop(datastore_id, None)
            if index is not None:
                index.close()
            self._dirty.discard(datastore_id)
            shutil.rmtree(self.directory(datastore_id), ignore_errors=True)

    def close(self) -> None:
        self.checkpoint()
        for index in self._indexes.values():
            index.close()
