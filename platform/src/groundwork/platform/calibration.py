"""When and on what a datastore's fusion is calibrated (the estimator itself: `groundwork.retrieval.calibration`).

A datastore is calibrated once it holds `min_chunks` chunks and again whenever its chunk count has grown
(or shrunk) by the factor `regrow` since the last calibration, so the total cost stays a small, bounded
share of ingestion: each calibration embeds min(`queries`, chunks / 20) short sentences (one chunk in 100 at
10k chunks), and doubling intervals make the sum a geometric series. The chunks sampled are the first
`queries` x 3 of the index's ids in the order of a hash of the id, so the sample is deterministic and
mostly stable as the datastore grows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import select

from groundwork.platform.config import CalibrationConfig
from groundwork.platform.db.models import Chunk
from groundwork.platform.db.session import Database
from groundwork.retrieval.calibration import calibrate, held_out, pseudo_queries, stable_order
from groundwork.retrieval.protocols import Vectors
from groundwork.retrieval.store import HybridIndex

logger = logging.getLogger(__name__)


class Calibrator:
    """Calibrates a datastore's `HybridIndex` in place (`index.calibration`) when it is due."""

    def __init__(
        self,
        database: Database,
        embed_queries: Callable[[Sequence[str]], Vectors],
        config: CalibrationConfig,
        *,
        prior: float = 0.5,
    ) -> None:
        self._db = database
        self._embed = embed_queries
        self._config = config
        self._prior = prior

    def due(self, index: HybridIndex) -> bool:
        count = index.vector_count
        if not self._config.enabled or count < self._config.min_chunks:
            return False
        previous = index.calibration
        if previous is None or previous.chunk_count <= 0:
            return True
        ratio = count / previous.chunk_count
        return ratio >= self._config.regrow or ratio <= 1 / self._config.regrow

    def maybe_calibrate(self, datastore_id: str, index: HybridIndex) -> bool:
        """Calibrate if due; returns whether it did. The caller holds the index's write lock."""
        if not self.due(index):
            return False
        limit = min(self._config.queries, max(10, index.vector_count // 20))
        ids = sorted((int(i) for i in index.vector_ids()), key=lambda i: stable_order(i, 0))
        sample = ids[: limit * 5]
        with self._db.session() as session:
            rows = session.execute(
                select(Chunk.id, Chunk.text, Chunk.document_id).where(
                    Chunk.datastore_id == datastore_id, Chunk.id.in_(sample)
                )
            ).all()
            documents = {row.document_id for row in rows}
            siblings: dict[str, list[int]] = {}
            for chunk_id, document_id in session.execute(
                select(Chunk.id, Chunk.document_id).where(
                    Chunk.datastore_id == datastore_id, Chunk.document_id.in_(documents)
                )
            ):
                siblings.setdefault(document_id, []).append(chunk_id)
        by_chunk = {row.id: siblings.get(row.document_id, []) for row in rows}
        queries = held_out(pseudo_queries([(row.id, row.text) for row in rows], limit * 5), by_chunk)[:limit]
        calibration = calibrate(
            index,
            self._embed,
            queries,
            chunk_count=index.vector_count,
            generation=index.generation,
            candidates=self._config.candidates,
            prior=self._prior,
            guard=self._config.guard,
        )
        if calibration is None:
            return False
        index.calibration = calibration
        logger.info(
            "datastore %s calibrated on %d pseudo-queries in %.2fs: dense weight %.2f (best %.1f, guard %s; "
            "MRR dense %.3f, lexical %.3f, fused %.3f)",
            datastore_id,
            calibration.pseudo_queries,
            calibration.seconds,
            calibration.dense_weight,
            calibration.best_weight,
            "tripped" if calibration.guard_tripped else "not tripped",
            calibration.dense_mrr,
            calibration.lexical_mrr,
            calibration.fused_mrr,
        )
        return True
