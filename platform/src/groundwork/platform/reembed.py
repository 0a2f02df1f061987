"""Re-embedding a datastore with this process's embedding (model + backend + precision), on operator request.

A datastore's vectors are only comparable with queries embedded the same way, so a datastore made with
another embedding is refused (`EmbeddingMismatchError`) until it is re-embedded: every chunk's text is
embedded again, its vector replaced and the datastore's recorded embedding updated in one transaction, under
the datastore's write lock; the index is then rebuilt from the metadata store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from groundwork.platform.db.models import Chunk, Datastore, Document
from groundwork.platform.db.session import Database
from groundwork.platform.errors import NotFoundError
from groundwork.platform.indexes import IndexManager, contextual_text
from groundwork.retrieval.protocols import Embedder

logger = logging.getLogger(__name__)

BATCH = 512


@dataclass(frozen=True)
class Reembedded:
    datastore_id: str
    chunks: int
    previous: str
    current: str
    seconds: float


def reembed_datastore(
    database: Database,
    indexes: IndexManager,
    embedder: Embedder,
    identity: str,
    datastore_id: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Reembedded:
    """Embed every chunk of the datastore again and record `identity` as its embedding."""
    started = time.perf_counter()
    with indexes.exclusive(datastore_id), database.session() as session:
        datastore = session.get(Datastore, datastore_id, with_for_update=True)
        if datastore is None:
            raise NotFoundError(f"datastore {datastore_id} not found")
        previous = datastore.embedding_model
        rows = session.execute(
            select(Chunk.id, Chunk.text, Chunk.heading_path, Document.title)
            .join(Document, Document.id == Chunk.document_id)
            .where(Chunk.datastore_id == datastore_id)
            .order_by(Chunk.id)
        ).all()
        for first in range(0, len(rows), BATCH):
            part = rows[first : first + BATCH]
            vectors = embedder.embed_documents(
                [contextual_text(r.title or "", r.heading_path or [], r.text) for r in part]
            )
            session.execute(
                update(Chunk), [{"id": r.id, "embedding": v.tobytes()} for r, v in zip(part, vectors, strict=True)]
            )
            if progress is not None:
                progress(first + len(part), len(rows))
        datastore.embedding_model = identity
        datastore.index_generation += 1
    indexes.get(datastore_id)  # rebuilt from the new vectors
    seconds = time.perf_counter() - started
    logger.info(
        "re-embedded datastore %s: %d chunks in %.1f s (%s -> %s)", datastore_id, len(rows), seconds, previous, identity
    )
    return Reembedded(datastore_id, len(rows), previous, identity, seconds)
