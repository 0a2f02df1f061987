"""Thin task handlers: validate the payload, call one pipeline function, turn errors into retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from groundwork.ingestion.pipeline import PipelineContext, process_batch, record_batch_error
from groundwork.platform.errors import InvalidRequestError, PlatformError
from groundwork.platform.tasks import names
from groundwork.platform.tasks.protocols import TaskHandler, TaskPayload

logger = logging.getLogger(__name__)

Enqueue = Callable[[str, Sequence[str]], None]


def make_handlers(ctx: PipelineContext, enqueue: Enqueue) -> dict[str, TaskHandler]:
    """Task name -> handler, for any `TaskQueue`. `enqueue(datastore_id, ids)` schedules retries."""

    def handle_process_batch(payload: TaskPayload) -> None:
        datastore_id = payload.get("datastore_id")
        document_ids = payload.get("document_ids")
        if not isinstance(datastore_id, str) or not isinstance(document_ids, list):
            raise InvalidRequestError(f"malformed {names.PROCESS_BATCH} payload: {payload!r}")
        try:
            result = process_batch(ctx, datastore_id, document_ids)
        except Exception as exc:  # an outage or a bug: retry what has attempts left, one document per task
            logger.exception("batch of %d documents in datastore %s failed", len(document_ids), datastore_id)
            for document_id in record_batch_error(ctx, document_ids, exc):
                enqueue(datastore_id, [document_id])
            return
        if result.isolate:
            logger.warning(
                "an earlier attempt at a batch of datastore %s died mid-way; retrying its %d documents one by one",
                datastore_id,
                len(result.isolate),
            )
            for document_id in result.isolate:
                enqueue(datastore_id, [document_id])
            return
        if result.requeue:
            try:
                enqueue(datastore_id, list(result.requeue))
            except PlatformError as exc:  # the in-process queue is closed: the next start re-enqueues them
                logger.info("%d documents left queued for the next start: %s", len(result.requeue), exc)
        logger.info(
            "datastore %s: %d indexed, %d failed, %d skipped",
            datastore_id,
            result.indexed,
            result.failed,
            result.skipped,
        )

    return {names.PROCESS_BATCH: handle_process_batch}
