"""The ingestion pipeline: claim -> parse -> chunk -> embed -> commit (metadata, then indexes).

Plain functions over explicit dependencies, so the in-process pool and Celery run the same code. Every
step is idempotent: a document whose content hash is already indexed is skipped, and a commit is dropped if
the document changed or disappeared while it was being processed. Metadata (chunks with their vectors and
the datastore's index generation) commits first in one transaction; the in-memory indexes follow under the
datastore's write lock. A crash between the two is repaired at the next start by rebuilding the index from
the metadata store (see `groundwork.platform.indexes`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from groundwork.ingestion.chunking import ChunkDraft, ChunkingOptions, Tokenizer, chunk_document
from groundwork.ingestion.errors import DocumentTooLargeError, EmptyDocumentError, IngestionError, ParserCrashedError
from groundwork.ingestion.parsers.registry import parse_document
from groundwork.ingestion.parsers.sandbox import SandboxPool
from groundwork.ingestion.parsers.text import char_budget
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits
from groundwork.platform.db.models import (
    TERMINAL_STATUSES,
    Chunk,
    Datastore,
    Document,
    DocumentStatus,
    Job,
    JobStatus,
    utcnow,
)
from groundwork.platform.db.session import Database
from groundwork.platform.errors import NotFoundError
from groundwork.platform.indexes import IndexManager, contextual_text
from groundwork.platform.storage.protocols import BlobStore
from groundwork.platform.tasks.control import WorkControl
from groundwork.retrieval.protocols import Embedder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineContext:
    """Everything the pipeline needs; built once by the composition root."""

    database: Database
    blobs: BlobStore
    indexes: IndexManager
    embedder: Embedder
    tokenizer: Tokenizer
    chunking: ChunkingOptions
    limits: ParseLimits
    max_attempts: int
    control: WorkControl = field(default_factory=WorkControl)
    """Shutdown (`stopping`) and deletions in flight (`cancel`)."""
    parsers: SandboxPool | None = None
    """Parser subprocesses for untrusted files; None parses in the calling thread."""
    max_chunks: int = 4000
    """Chunks one document may yield (`ingestion.max_chunks_per_document`)."""


@dataclass(frozen=True)
class _Claimed:
    document_id: str
    content_hash: str
    blob_key: str
    source_uri: str
    mime_type: str
    title: str
    job_id: str | None


@dataclass(frozen=True)
class _Prepared:
    claimed: _Claimed
    title: str
    metadata: Mapping[str, Any]
    page_count: int | None
    chunks: list[ChunkDraft]


@dataclass(frozen=True)
class _Failed:
    claimed: _Claimed
    code: str
    reason: str


@dataclass(frozen=True)
class BatchResult:
    indexed: int
    failed: int
    skipped: int
    isolate: tuple[str, ...] = ()
    """Documents set aside to be retried one per task: an earlier attempt at this batch died mid-way (a
    killed worker, or a document that crashes the process), and alone each either succeeds or uses up its
    own attempts without taking its batch-mates down with it."""
    requeue: tuple[str, ...] = ()
    """Documents put back to `queued` unprocessed because the process is stopping (to be enqueued again)."""


def process_batch(ctx: PipelineContext, datastore_id: str, document_ids: Sequence[str]) -> BatchResult:
    """Process documents of one datastore end to end. Safe to run again with the same ids."""
    if len(document_ids) > 1:
        isolate = _interrupted(ctx, document_ids)
        if isolate:
            return BatchResult(indexed=0, failed=0, skipped=len(document_ids), isolate=tuple(isolate))
    claimed = _claim(ctx, document_ids)
    prepared: list[_Prepared] = []
    failed: list[_Failed] = []
    interrupted: list[str] = []
    for number, item in enumerate(claimed):
        if ctx.control.stopping.is_set():  # shutting down: the rest goes back to the queue
            interrupted = [c.document_id for c in claimed[number:]]
            break
        outcome = _prepare(ctx, item)
        if isinstance(outcome, _Failed) and outcome.code == ParserCrashedError.code and ctx.control.stopping.is_set():
            interrupted.append(item.document_id)  # its parser was killed by the shutdown, not by the document
            continue
        (prepared if isinstance(outcome, _Prepared) else failed).append(outcome)  # type: ignore[arg-type]
    if ctx.control.stopping.is_set():
        interrupted += [p.claimed.document_id for p in prepared]
        prepared = []
    put_back(ctx, interrupted)
    prepared = [p for p in prepared if not ctx.control.is_cancelled(p.claimed.document_id)]
    for item in claimed:
        ctx.control.forget(item.document_id)
    _set_status(ctx, [p.claimed for p in prepared], DocumentStatus.EMBEDDING)
    texts = [contextual_text(p.title, c.heading_path, c.text) for p in prepared for c in p.chunks]
    vectors = ctx.embedder.embed_documents(texts)
    _commit(ctx, datastore_id, prepared, vectors, texts, failed)
    return BatchResult(
        indexed=len(prepared),
        failed=len(failed),
        skipped=len(document_ids) - len(claimed),
        requeue=tuple(interrupted),
    )


def _interrupted(ctx: PipelineContext, document_ids: Sequence[str]) -> list[str]:
    """If an earlier attempt at these documents started and never finished, put them back to `queued` and
    return every unfinished id of the batch (to be retried one per task)."""
    with ctx.database.session() as session:
        documents = session.scalars(select(Document).where(Document.id.in_(list(document_ids)))).all()
        unfinished = [d for d in documents if d.status not in TERMINAL_STATUSES]
        if not any(d.status in (DocumentStatus.PARSING, DocumentStatus.EMBEDDING) for d in unfinished):
            return []
        for document in unfinished:
            document.status = DocumentStatus.QUEUED
        return [d.id for d in unfinished]


def _claim(ctx: PipelineContext, document_ids: Sequence[str]) -> list[_Claimed]:
    """Mark queued documents as parsing and count the attempt; skip those already done or gone.

    A document that already used every attempt without an outcome (its worker died each time: a poison
    document that crashes the process, or a lost message) is dead-lettered here instead of run again."""
    claimed: list[_Claimed] = []
    job_counts: dict[str, tuple[int, int]] = {}
    with ctx.database.session() as session:
        documents = session.scalars(select(Document).where(Document.id.in_(list(document_ids)))).all()
        started_jobs: set[str] = set()
        now = utcnow()
        for document in documents:
            if document.status in TERMINAL_STATUSES:
                continue
            if document.attempts >= ctx.max_attempts:
                document.status = DocumentStatus.DEAD_LETTER
                document.failure_code = "attempts_exhausted"
                document.failure_reason = (
                    f"{document.attempts} attempts ended without an outcome (the worker died or its task was "
                    "lost each time)"
                )
                document.finished_at = now
                if document.job_id:
                    done, fails = job_counts.get(document.job_id, (0, 0))
                    job_counts[document.job_id] = (done + 1, fails + 1)
                continue
            document.status = DocumentStatus.PARSING
            document.attempts += 1
            document.started_at = now
            if document.job_id:
                started_jobs.add(document.job_id)
            claimed.append(
                _Claimed(
                    document_id=document.id,
                    content_hash=document.content_hash,
                    blob_key=document.blob_key,
                    source_uri=document.source_uri,
                    mime_type=document.mime_type,
                    title=document.title,
                    job_id=document.job_id,
                )
            )
        if started_jobs:
            session.execute(
                update(Job)
                .where(Job.id.in_(started_jobs), Job.status == JobStatus.QUEUED)
                .values(status=JobStatus.RUNNING, updated_at=utcnow())
            )
        _count_done(session, job_counts)
    return claimed


def put_back(ctx: PipelineContext, document_ids: Sequence[str]) -> None:
    """Return claimed documents to `queued` without counting the attempt (shutdown interrupted them); the
    next start re-enqueues them."""
    if not document_ids:
        return
    with ctx.database.session() as session:
        session.execute(
            update(Document)
            .where(Document.id.in_(list(document_ids)), Document.status.not_in(list(TERMINAL_STATUSES)))
            .values(status=DocumentStatus.QUEUED, attempts=Document.attempts - 1, updated_at=utcnow())
        )


def _parse(ctx: PipelineContext, item: _Claimed, data: bytes) -> ParsedDocument:
    """In this thread's parser subprocess (killed if the document is deleted meanwhile), or here."""
    if ctx.parsers is None:
        with char_budget(ctx.limits.max_chars):
            return parse_document(data, filename=item.source_uri, mime_type=item.mime_type, limits=ctx.limits)
    sandbox = ctx.parsers.sandbox()
    with ctx.control.active(item.document_id, sandbox.kill):
        return sandbox.parse(data, filename=item.source_uri, mime_type=item.mime_type, limits=ctx.limits)


def _prepare(ctx: PipelineContext, item: _Claimed) -> _Prepared | _Failed:
    try:
        data = ctx.blobs.get(item.blob_key)
        started = time.perf_counter()
        parsed = _parse(ctx, item, data)
        del data
        chunks = chunk_document(parsed, ctx.tokenizer, ctx.chunking)
        if not chunks:
            raise EmptyDocumentError("the document has no text to index")
        if len(chunks) > ctx.max_chunks:
            raise DocumentTooLargeError(
                f"{item.source_uri}: {len(chunks)} chunks, more than the limit of {ctx.max_chunks} "
                "(ingestion.max_chunks_per_document)"
            )
        logger.debug("parsed %s into %d chunks in %.3fs", item.source_uri, len(chunks), time.perf_counter() - started)
    except IngestionError as exc:
        return _Failed(item, exc.code, str(exc))
    except NotFoundError as exc:
        return _Failed(item, "blob_missing", str(exc))
    return _Prepared(
        claimed=item,
        title=item.title or parsed.title or item.source_uri.rsplit("/", 1)[-1],
        metadata=parsed.metadata,
        page_count=parsed.page_count,
        chunks=chunks,
    )


def _set_status(ctx: PipelineContext, items: Sequence[_Claimed], status: DocumentStatus) -> None:
    if not items:
        return
    with ctx.database.session() as session:
        session.execute(
            update(Document)
            .where(Document.id.in_([i.document_id for i in items]), Document.status != DocumentStatus.INDEXED)
            .values(status=status, updated_at=utcnow())
        )


def _current(session: Session, item: _Claimed) -> Document | None:
    """The document if it is still the version that was processed and still in flight."""
    document = session.get(Document, item.document_id)
    if document is None or document.content_hash != item.content_hash:
        return None
    if document.status in TERMINAL_STATUSES:
        return None
    return document


def _count_done(session: Session, job_counts: dict[str, tuple[int, int]]) -> None:
    for job_id, (done, failed) in job_counts.items():
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(done=Job.done + done, failed=Job.failed + failed, updated_at=utcnow())
        )
        job = session.get_one(Job, job_id)
        session.refresh(job)
        if job.done >= job.total and job.finished_at is None:
            job.status = JobStatus.COMPLETED_WITH_ERRORS if job.failed else JobStatus.SUCCEEDED
            job.finished_at = utcnow()


def _commit(
    ctx: PipelineContext,
    datastore_id: str,
    prepared: Sequence[_Prepared],
    vectors: np.ndarray[Any, np.dtype[np.float32]],
    texts: Sequence[str],
    failed: Sequence[_Failed],
) -> None:
    job_counts: dict[str, tuple[int, int]] = {}

    def count(job_id: str | None, *, failure: bool) -> None:
        if job_id:
            done, fails = job_counts.get(job_id, (0, 0))
            job_counts[job_id] = (done + 1, fails + int(failure))

    with ctx.indexes.writing(datastore_id) as index:
        removed: list[int] = []
        added: list[int] = []
        added_rows: list[int] = []
        with ctx.database.session() as session:
            datastore = session.get(Datastore, datastore_id, with_for_update=True)
            if datastore is None:
                return
            row = 0
            for item in prepared:
                rows = range(row, row + len(item.chunks))
                row += len(item.chunks)
                document = _current(session, item.claimed)
                if document is None:
                    continue
                removed.extend(session.scalars(select(Chunk.id).where(Chunk.document_id == document.id)))
                session.execute(delete(Chunk).where(Chunk.document_id == document.id))
                new_ids = session.scalars(
                    insert(Chunk).returning(Chunk.id, sort_by_parameter_order=True),
                    [
                        {
                            "document_id": document.id,
                            "datastore_id": datastore_id,
                            "ordinal": ordinal,
                            "text": chunk.text,
                            "heading_path": list(chunk.heading_path),
                            "start_offset": chunk.start,
                            "end_offset": chunk.end,
                            "page": chunk.page,
                            "token_count": chunk.token_count,
                            "embedding": vectors[r].tobytes(),
                        }
                        for ordinal, (chunk, r) in enumerate(zip(item.chunks, rows, strict=True))
                    ],
                ).all()
                added.extend(new_ids)
                added_rows.extend(rows)
                document.status = DocumentStatus.INDEXED
                document.indexed_hash = document.content_hash
                document.chunk_count = len(item.chunks)
                document.page_count = item.page_count
                document.title = item.title
                document.metadata_json = {**dict(item.metadata), **document.metadata_json}
                document.failure_code = document.failure_reason = None
                document.indexed_at = document.finished_at = utcnow()
                count(document.job_id, failure=False)
            for failure in failed:
                document = _current(session, failure.claimed)
                if document is None:
                    continue
                document.status = DocumentStatus.FAILED
                document.failure_code = failure.code
                document.failure_reason = failure.reason
                document.finished_at = utcnow()
                count(document.job_id, failure=True)
            if removed or added:
                datastore.index_generation += 1
            generation = datastore.index_generation
            _count_done(session, job_counts)
        if removed or added:
            index.apply(
                remove_ids=removed,
                add_ids=added,
                vectors=vectors[added_rows] if added else None,
                texts=[texts[r] for r in added_rows],
            )
            ctx.indexes.committed(datastore_id, generation)
        if any(job_id for job_id in job_counts) and _jobs_finished(ctx, job_counts):
            ctx.indexes.checkpoint(datastore_id)


def _jobs_finished(ctx: PipelineContext, job_counts: Mapping[str, tuple[int, int]]) -> bool:
    with ctx.database.session() as session:
        unfinished = session.scalar(
            select(Job.id).where(Job.id.in_(list(job_counts)), Job.finished_at.is_(None)).limit(1)
        )
    return unfinished is None


def record_batch_error(ctx: PipelineContext, document_ids: Sequence[str], error: BaseException) -> list[str]:
    """After an unexpected error: documents with attempts left go back to `queued` (returned, to be
    re-enqueued); the others are dead-lettered with the error as their reason."""
    retry: list[str] = []
    job_counts: dict[str, tuple[int, int]] = {}
    with ctx.database.session() as session:
        documents = session.scalars(select(Document).where(Document.id.in_(list(document_ids)))).all()
        for document in documents:
            if document.status in TERMINAL_STATUSES:
                continue
            if document.attempts < ctx.max_attempts:
                document.status = DocumentStatus.QUEUED
                document.queued_at = utcnow()
                document.failure_reason = f"attempt {document.attempts} failed: {type(error).__name__}: {error}"
                retry.append(document.id)
                continue
            document.status = DocumentStatus.DEAD_LETTER
            document.failure_code = "internal_error"
            document.failure_reason = f"gave up after {document.attempts} attempts: {type(error).__name__}: {error}"
            document.finished_at = utcnow()
            if document.job_id:
                done, fails = job_counts.get(document.job_id, (0, 0))
                job_counts[document.job_id] = (done + 1, fails + 1)
        _count_done(session, job_counts)
    return retry
