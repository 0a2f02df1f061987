"""Datastores, documents and ingestion jobs: the write side shared by the API, the CLI and evaluation.

Submitting stores the bytes in the blob store, records the document (idempotent by source URI and content
hash), creates a job and enqueues the work by task name. The pipeline that runs it lives in `ingestion`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groundwork.platform.access.acl import DocumentAcl, change_acl, manageable_by, readable_by, write_acl
from groundwork.platform.access.principal import Principal
from groundwork.platform.config import IngestionConfig
from groundwork.platform.db.models import (
    FAILED_STATUSES,
    IN_FLIGHT_STATUSES,
    Chunk,
    Datastore,
    Document,
    DocumentStatus,
    Job,
    JobStatus,
    Role,
    new_id,
    utcnow,
)
from groundwork.platform.db.session import Database
from groundwork.platform.errors import (
    ConflictError,
    FileTooLargeError,
    InvalidRequestError,
    NotFoundError,
    TooManyFilesError,
    UnsupportedContentError,
    UnsupportedFormatError,
)
from groundwork.platform.indexes import IndexManager
from groundwork.platform.mime import content_problem, detect_mime_type
from groundwork.platform.storage.protocols import BlobStore
from groundwork.platform.tasks import names
from groundwork.platform.tasks.control import WorkControl
from groundwork.platform.tasks.protocols import TaskQueue

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class NewDocument:
    """One document to ingest."""

    source_uri: str
    """Identity within the datastore: the same URI again updates the document."""
    filename: str
    data: bytes
    declared_mime_type: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    acl: DocumentAcl | None = None
    """Who may read it; None: the ACL of `access.default_document_acl`. A resubmission with the same bytes
    and another ACL changes the ACL only (nothing is parsed or embedded again)."""


@dataclass(frozen=True)
class JobProgress:
    """How far a job is and when it should end, from its counts and age."""

    fraction: float
    """done / total, 0..1."""
    docs_per_second: float | None
    """Documents finished per second since the job was created; None before the first one."""
    eta_seconds: float | None
    """Seconds until every document is done at that rate; 0 when finished, None when unknown."""

    @classmethod
    def of(cls, job: Job, now: datetime | None = None) -> JobProgress:
        fraction = job.done / job.total if job.total else 1.0
        if job.finished_at is not None:
            elapsed = (job.finished_at - job.created_at).total_seconds()
            return cls(1.0, job.done / elapsed if job.done and elapsed > 0 else None, 0.0)
        created = job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC)
        elapsed = ((now or utcnow()) - created).total_seconds()
        if job.done <= 0 or elapsed <= 0:
            return cls(fraction, None, None)
        rate = job.done / elapsed
        return cls(fraction, rate, max(0, job.total - job.done) / rate)


@dataclass(frozen=True)
class Submission:
    job: Job
    document_ids: list[str]
    """In the order submitted; an unchanged document keeps its id."""


@dataclass(frozen=True)
class Refusal:
    """A file of a batch that was not accepted, with the error code it would have had alone."""

    filename: str
    code: str
    message: str


@dataclass(frozen=True)
class BatchSubmission:
    submission: Submission
    accepted: list[str]
    """Filenames of the accepted files, in the order of `submission.document_ids`."""
    refused: list[Refusal]


class DocumentService:
    """Writes to datastores and documents; one instance per process, shared by every surface."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        queue: TaskQueue,
        indexes: IndexManager,
        config: IngestionConfig,
        *,
        embedding_model: str,
        default_acl: DocumentAcl,
        retry_backoff: Callable[[int], float] | None = None,
        control: WorkControl | None = None,
    ) -> None:
        self._control = control or WorkControl()
        self._db = database
        self._blobs = blobs
        self._queue = queue
        self._indexes = indexes
        self._config = config
        self._embedding_model = embedding_model
        self._default_acl = default_acl
        self._retry_backoff = retry_backoff

    # -- datastores -------------------------------------------------------------------------------------

    def create_datastore(self, principal: Principal, name: str, description: str = "") -> Datastore:
        principal.require(Role.EDITOR, "creating a datastore")
        if not _NAME.match(name):
            raise InvalidRequestError(
                "datastore name must be 1-100 characters of letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        try:
            with self._db.session() as session:
                datastore = Datastore(
                    tenant_id=principal.tenant_id,
                    name=name,
                    description=description,
                    embedding_model=self._embedding_model,
                )
                session.add(datastore)
                session.flush()
                return datastore
        except IntegrityError as exc:
            raise ConflictError(f"a datastore named {name!r} already exists") from exc

    def list_datastores(self, principal: Principal) -> list[Datastore]:
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(Datastore).where(Datastore.tenant_id == principal.tenant_id).order_by(Datastore.name)
                )
            )

    def get_datastore(self, principal: Principal, reference: str) -> Datastore:
        """A datastore of the principal's tenant, by id or by name."""
        with self._db.session() as session:
            datastore = session.scalar(
                select(Datastore).where(
                    Datastore.tenant_id == principal.tenant_id,
                    (Datastore.id == reference) | (Datastore.name == reference),
                )
            )
        if datastore is None:
            raise NotFoundError(f"datastore {reference!r} not found")
        return datastore

    def get_or_create_datastore(self, principal: Principal, name: str) -> Datastore:
        try:
            return self.get_datastore(principal, name)
        except NotFoundError:
            return self.create_datastore(principal, name)

    def datastore_stats(self, principal: Principal, datastore_id: str) -> dict[str, int]:
        """Counts of the documents (by status) and chunks of a datastore that `principal` may read."""
        visible = readable_by(principal)
        with self._db.session() as session:
            rows = session.execute(
                select(Document.status, func.count())
                .where(Document.datastore_id == datastore_id, visible)
                .group_by(Document.status)
            ).all()
            counts = {str(status): int(count) for status, count in rows}
            chunks = (
                session.scalar(
                    select(func.count())
                    .select_from(Chunk)
                    .join(Document, Document.id == Chunk.document_id)
                    .where(Chunk.datastore_id == datastore_id, visible)
                )
                or 0
            )
        by_status = {f"documents_{status}": count for status, count in counts.items()}
        return {"documents": sum(counts.values()), "chunks": int(chunks), **by_status}

    def delete_datastore(self, principal: Principal, reference: str) -> None:
        """Delete a datastore with every document in it (admins only: it removes documents of every ACL)."""
        principal.require(Role.ADMIN, "deleting a datastore")
        datastore = self.get_datastore(principal, reference)
        with self._indexes.writing(datastore.id):
            with self._db.session() as session:
                session.execute(delete(Chunk).where(Chunk.datastore_id == datastore.id))
                session.execute(delete(Document).where(Document.datastore_id == datastore.id))
                session.execute(delete(Job).where(Job.datastore_id == datastore.id))
                session.execute(delete(Datastore).where(Datastore.id == datastore.id))
            self._indexes.drop(datastore.id)
        self._blobs.delete_prefix(f"{datastore.tenant_id}/{datastore.id}")

    # -- documents --------------------------------------------------------------------------------------

    def validate(self, item: NewDocument) -> str:
        """Check limits, name, type and content; returns the detected MIME type."""
        if _CONTROL_CHARS.search(item.filename) or _CONTROL_CHARS.search(item.source_uri):
            raise InvalidRequestError(
                f"{item.filename!r}: file names and source URIs may not contain control characters (newlines, tabs)"
            )
        if len(item.data) > self._config.max_upload_bytes:
            raise FileTooLargeError(
                f"{item.filename} is {len(item.data)} bytes; the limit is {self._config.max_upload_bytes}"
            )
        if not item.data.strip():
            raise InvalidRequestError(f"{item.filename} is empty")
        mime_type = detect_mime_type(item.filename, item.data, item.declared_mime_type)
        if mime_type not in self._config.allowed_mime_types:
            raise UnsupportedFormatError(
                f"{item.filename}: type {mime_type} is not accepted; accepted: "
                + ", ".join(self._config.allowed_mime_types)
            )
        problem = content_problem(mime_type, item.data)
        if problem is not None:
            raise UnsupportedContentError(f"{item.filename}: {problem}")
        return mime_type

    def submit_batch(self, principal: Principal, datastore_id: str, items: Sequence[NewDocument]) -> BatchSubmission:
        """Like `submit` (one job), but a file that fails validation is refused on its own instead of
        failing the whole batch."""
        if len(items) > self._config.max_batch_files:
            raise TooManyFilesError(
                f"{len(items)} files in one batch; the limit is {self._config.max_batch_files} (split the upload)"
            )
        principal.require(Role.EDITOR, "adding documents")
        self.get_datastore(principal, datastore_id)
        accepted: list[NewDocument] = []
        refused: list[Refusal] = []
        for item in items:
            try:
                self.validate(item)
            except InvalidRequestError as exc:
                refused.append(Refusal(item.filename, exc.code, str(exc)))
                continue
            accepted.append(item)
        submission = self.submit(principal, datastore_id, accepted, kind="batch")
        return BatchSubmission(submission, [item.filename for item in accepted], refused)

    def submit(
        self,
        principal: Principal,
        datastore_id: str,
        items: Sequence[NewDocument],
        *,
        kind: str = "ingest",
        replace_any: bool = False,
    ) -> Submission:
        """Record documents and enqueue their processing. Unchanged documents are no-ops (but for their ACL).
        A document of the same source URI that `principal` may read but not change is refused (`NotFoundError`)
        unless `replace_any` (sync: the source owns what lies below its root); one it may not read is left
        alone and the upload goes to a document of its own (`_target`), exactly as if there were none.

        Idempotent under concurrency: when another submission of the same source URI commits first (the
        unique constraint fires), the submission is re-run and finds that document — same content is then
        processed once."""
        principal.require(Role.EDITOR, "adding documents")
        datastore = self.get_datastore(principal, datastore_id)
        self._indexes.check_embedding(datastore.id)  # never add vectors of another embedding to its chunks
        mime_types = [self.validate(item) for item in items]
        for attempt in range(1, 4):
            written: list[str] = []
            try:
                return self._submit_once(principal, datastore.id, items, mime_types, kind, written, replace_any)
            except IntegrityError:
                for key in written:  # blobs of new documents whose rows never committed
                    self._blobs.delete_prefix(key)
                if attempt == 3:
                    raise
                logger.info("concurrent submission of the same documents; retrying (attempt %d)", attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _submit_once(
        self,
        principal: Principal,
        datastore_id: str,
        items: Sequence[NewDocument],
        mime_types: Sequence[str],
        kind: str,
        written: list[str],
        replace_any: bool,
    ) -> Submission:
        job_id = new_id()
        queued: list[str] = []
        document_ids: list[str] = []
        unchanged = 0
        tenant_id = principal.tenant_id
        with self._db.session() as session:
            job = Job(id=job_id, tenant_id=tenant_id, datastore_id=datastore_id, kind=kind, total=len(items))
            session.add(job)
            for item, mime_type in zip(items, mime_types, strict=True):
                content_hash = hashlib.sha256(item.data).hexdigest()
                acl = item.acl or self._default_acl
                document, owner_key = self._target(session, principal, datastore_id, item.source_uri, replace_any)
                if document is not None and document.acl != acl.to_json():
                    write_acl(session, [document.id], acl)
                if (
                    document is not None
                    and document.content_hash == content_hash
                    and document.status == DocumentStatus.INDEXED
                    and document.indexed_hash == content_hash
                ):
                    unchanged += 1
                    document_ids.append(document.id)
                    continue
                if document is not None and document.status in IN_FLIGHT_STATUSES:
                    # It moves to this job; the job that queued it no longer waits for it.
                    self._release_from_job(session, document.job_id)
                    if document.content_hash == content_hash:
                        document.job_id = job_id
                        document_ids.append(document.id)
                        # Enqueued again: the process that queued it may be gone, and a CLI run no longer
                        # recovers every leftover at start-up (only what it submits). The pipeline's claim
                        # makes a second message for a live document a no-op.
                        queued.append(document.id)
                        continue
                if document is None:
                    document = Document(
                        id=new_id(),
                        tenant_id=tenant_id,
                        datastore_id=datastore_id,
                        source_uri=item.source_uri,
                        owner_key=owner_key,
                        version=1,
                    )
                    session.add(document)
                else:
                    document.version += 1
                blob_key = f"{tenant_id}/{datastore_id}/{document.id}/{content_hash}"
                document.title = item.title or ""
                document.mime_type = mime_type
                document.content_hash = content_hash
                document.size_bytes = len(item.data)
                document.blob_key = blob_key
                document.metadata_json = dict(item.metadata)
                document.status = DocumentStatus.QUEUED
                document.failure_code = document.failure_reason = None
                document.attempts = 0
                document.job_id = job_id
                document.queued_at, document.started_at, document.finished_at = utcnow(), None, None
                session.flush()  # a concurrent submission of this URI fails here, before its blob is written
                if document.acl != acl.to_json():
                    write_acl(session, [document.id], acl)
                self._blobs.put(blob_key, item.data)
                if document.version == 1:
                    written.append(blob_key)
                queued.append(document.id)
                document_ids.append(document.id)
            job.done = unchanged
            if unchanged == len(items):
                job.status = JobStatus.SUCCEEDED
                job.finished_at = utcnow()
        self.enqueue(datastore_id, queued)
        with self._db.session() as session:  # the submitter gets its job even if it may not read what it sent
            job = session.get_one(Job, job_id)
        return Submission(job=job, document_ids=document_ids)

    def _target(
        self, session: Session, principal: Principal, datastore_id: str, source_uri: str, replace_any: bool
    ) -> tuple[Document | None, str]:
        """The document an upload of `source_uri` replaces (None: a new one), and the owner key of a new one.

        When the document of that URI is one `principal` may not read, the upload must behave exactly as if
        there were none, without touching it: it goes to a document of the URI private to the principal
        (`owner_key`), created on the first such upload and replaced by the next. One it may read but not
        change is refused, as before (nothing is revealed: it can see it)."""
        rows = session.scalars(
            select(Document).where(Document.datastore_id == datastore_id, Document.source_uri == source_uri)
        ).all()
        primary = next((d for d in rows if d.owner_key == ""), None)
        if primary is None or replace_any or self._may_replace(session, principal, primary):
            return primary, ""
        if session.scalar(select(Document.id).where(Document.id == primary.id, readable_by(principal))):
            raise NotFoundError(f"document {source_uri!r} exists and this principal may not change it")
        key = f"{principal.tenant_id}/{principal.name}"
        return next((d for d in rows if d.owner_key == key), None), key

    @staticmethod
    def _may_replace(session: Session, principal: Principal, document: Document) -> bool:
        return (
            session.scalar(select(Document.id).where(Document.id == document.id, manageable_by(principal))) is not None
        )

    def enqueue(self, datastore_id: str, document_ids: Sequence[str], *, countdown: float | None = None) -> None:
        size = max(1, self._config.batch_size)
        for start in range(0, len(document_ids), size):
            batch = list(document_ids[start : start + size])
            self._queue.submit(
                names.PROCESS_BATCH, {"datastore_id": datastore_id, "document_ids": batch}, countdown=countdown
            )

    def enqueue_retry(self, datastore_id: str, document_ids: Sequence[str]) -> None:
        """Re-enqueue documents after a failed attempt, after the backoff of their attempt count (a queue
        without delays runs them as soon as it can)."""
        countdown = None
        if self._retry_backoff is not None:
            with self._db.session() as session:
                attempts = session.scalar(
                    select(func.max(Document.attempts)).where(Document.id.in_(list(document_ids)))
                )
            countdown = self._retry_backoff(int(attempts or 1))
        self.enqueue(datastore_id, document_ids, countdown=countdown)

    def status_counts(self, datastore_id: str | None = None) -> dict[str, int]:
        """Documents per status (every tenant, for metrics; one datastore or all). Every status is present."""
        query = select(Document.status, func.count())
        if datastore_id is not None:
            query = query.where(Document.datastore_id == datastore_id)
        with self._db.session() as session:
            rows = session.execute(query.group_by(Document.status)).all()
        counts = {str(status): 0 for status in DocumentStatus}
        counts.update({str(status): int(count) for status, count in rows})
        return counts

    def _enqueue_each_datastore(self, rows: Sequence[Any]) -> None:
        """Enqueue (datastore id, document id) rows, one submission per datastore."""
        by_datastore: dict[str, list[str]] = {}
        for datastore_id, document_id in rows:
            by_datastore.setdefault(datastore_id, []).append(document_id)
        for datastore_id, document_ids in by_datastore.items():
            self.enqueue(datastore_id, document_ids)

    def recover(self) -> int:
        """Re-enqueue documents left in flight by a process that stopped; returns how many."""
        with self._db.session() as session:
            rows = session.execute(
                select(Document.datastore_id, Document.id)
                .where(Document.status.in_(IN_FLIGHT_STATUSES))
                .order_by(Document.datastore_id, Document.created_at)
            ).all()
        self._enqueue_each_datastore(rows)
        if rows:
            logger.info("re-enqueued %d documents left in flight", len(rows))
        return len(rows)

    def requeue_stale(
        self,
        older_than_seconds: float,
        *,
        queued_older_than_seconds: float | None = None,
        has_message: Collection[str] = (),
    ) -> int:
        """Re-enqueue in-flight documents whose message was probably lost (a broker restart without
        persistence, a worker killed before it could reject): those being processed (`parsing`,
        `embedding`) untouched for `older_than_seconds`, and those `queued` untouched for
        `queued_older_than_seconds` (default: the same) that no message in the broker names
        (`has_message`: they are waiting their turn). Safe to run from several processes at once: one
        conditional UPDATE claims each document, so only one re-enqueues it, and the pipeline is idempotent
        anyway. Returns how many were re-enqueued."""
        now = utcnow()
        cutoff = now - timedelta(seconds=older_than_seconds)
        queued_cutoff = now - timedelta(
            seconds=older_than_seconds if queued_older_than_seconds is None else queued_older_than_seconds
        )
        stale = (
            Document.status.in_([DocumentStatus.PARSING, DocumentStatus.EMBEDDING]) & (Document.updated_at < cutoff)
        ) | ((Document.status == DocumentStatus.QUEUED) & (Document.updated_at < queued_cutoff))
        with self._db.session() as session:
            candidates = [
                document_id
                for document_id, status in session.execute(select(Document.id, Document.status).where(stale))
                if status != DocumentStatus.QUEUED or document_id not in has_message
            ]
            rows: list[Any] = []
            for start in range(0, len(candidates), 1000):
                rows += session.execute(
                    update(Document)
                    .where(Document.id.in_(candidates[start : start + 1000]), stale)
                    .values(updated_at=utcnow())
                    .returning(Document.datastore_id, Document.id)
                ).all()
        self._enqueue_each_datastore(rows)
        if rows:
            logger.warning("re-enqueued %d documents in flight for more than %.0fs", len(rows), older_than_seconds)
        return len(rows)

    def retry(
        self,
        principal: Principal,
        datastore_id: str,
        document_ids: Sequence[str] | None = None,
        *,
        job_id: str | None = None,
    ) -> Job:
        """Queue failed and dead-lettered documents again (those named, or those of `job_id`, or all of the
        datastore's that `principal` may change) as a new `retry` job with fresh attempts. Raises
        `NotFoundError` if none qualify."""
        principal.require(Role.EDITOR, "retrying documents")
        with self._db.session() as session:
            query = select(Document).where(
                Document.datastore_id == datastore_id,
                manageable_by(principal),
                Document.status.in_(FAILED_STATUSES),
            )
            if document_ids is not None:
                query = query.where(Document.id.in_(list(document_ids)))
            if job_id is not None:
                query = query.where(Document.job_id == job_id)
            documents = list(session.scalars(query))
            if not documents:
                raise NotFoundError("no failed or dead-lettered documents to retry")
            job = Job(tenant_id=principal.tenant_id, datastore_id=datastore_id, kind="retry", total=len(documents))
            session.add(job)
            session.flush()
            now = utcnow()
            for document in documents:
                document.status = DocumentStatus.QUEUED
                document.attempts = 0
                document.failure_code = document.failure_reason = None
                document.job_id = job.id
                document.queued_at, document.started_at, document.finished_at = now, None, None
            queued = [document.id for document in documents]
            new_job_id = job.id
        self.enqueue(datastore_id, queued)
        return self.get_job(principal, new_job_id)

    def list_documents(
        self,
        principal: Principal,
        datastore_id: str,
        *,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Document], int]:
        """The documents of a datastore that `principal` may read, and how many there are."""
        with self._db.session() as session:
            query = select(Document).where(Document.datastore_id == datastore_id, readable_by(principal))
            if status:
                query = query.where(Document.status == status)
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            documents = session.scalars(query.order_by(Document.created_at, Document.id).limit(limit).offset(offset))
            return list(documents), int(total)

    def get_document(self, principal: Principal, datastore_id: str, document_id: str) -> Document:
        """A document `principal` may read; one it may not is "not found" (its existence is not revealed)."""
        with self._db.session() as session:
            document = session.scalar(
                select(Document).where(
                    Document.id == document_id, Document.datastore_id == datastore_id, readable_by(principal)
                )
            )
        if document is None:
            raise NotFoundError(f"document {document_id} not found in datastore {datastore_id}")
        return document

    def _manageable(self, principal: Principal, datastore_id: str, document_id: str) -> Document:
        with self._db.session() as session:
            document = session.scalar(
                select(Document).where(
                    Document.id == document_id, Document.datastore_id == datastore_id, manageable_by(principal)
                )
            )
        if document is None:
            raise NotFoundError(f"document {document_id} not found in datastore {datastore_id}")
        return document

    def set_acl(self, principal: Principal, datastore_id: str, document_id: str, acl: DocumentAcl) -> Document:
        """Replace a document's ACL; the next search sees the change. Nothing is re-embedded or re-indexed."""
        return change_acl(self._db, principal, datastore_id, document_id, acl)

    def delete_document(self, principal: Principal, datastore_id: str, document_id: str) -> None:
        """Remove a document from the metadata store and from both indexes, atomically for readers."""
        principal.require(Role.EDITOR, "deleting documents")
        self._manageable(principal, datastore_id, document_id)
        if not self.remove_document(document_id):
            raise NotFoundError(f"document {document_id} not found in datastore {datastore_id}")

    def original_bytes(self, document: Document) -> bytes:
        """The bytes of the document's current version (callers check access first)."""
        return self._blobs.get(document.blob_key)

    def update_acls(self, acls: Mapping[str, DocumentAcl | None]) -> int:
        """Set documents' ACLs (None: the default ACL) without an access check, writing only those that differ
        (sync applies its sources' sidecars with it). Returns how many changed."""
        changed = 0
        with self._db.session() as session:
            rows = session.execute(select(Document.id, Document.acl).where(Document.id.in_(list(acls)))).all()
            current: dict[str, Any] = {row[0]: row[1] for row in rows}
            for document_id, acl in acls.items():
                wanted = acl or self._default_acl
                if document_id in current and current[document_id] != wanted.to_json():
                    write_acl(session, [document_id], wanted)
                    changed += 1
        return changed

    def remove_document(self, document_id: str) -> bool:
        """Delete without an access check (sync removes what disappeared from its source); False if it was
        already gone. Work in flight on it stops: its parser process is killed, and it is not embedded."""
        with self._db.session() as session:
            document = session.get(Document, document_id)
        if document is None:
            return False
        if document.status in IN_FLIGHT_STATUSES:
            self._control.cancel(document_id)
        datastore_id = document.datastore_id
        with self._indexes.writing(datastore_id) as index:
            with self._db.session() as session:
                chunk_ids = list(session.scalars(select(Chunk.id).where(Chunk.document_id == document_id)))
                session.execute(delete(Chunk).where(Chunk.document_id == document_id))
                session.execute(delete(Document).where(Document.id == document_id))
                datastore = session.get_one(Datastore, datastore_id)
                datastore.index_generation += 1
                generation = datastore.index_generation
                self._finish_job_item(session, document.job_id, document.status)
            index.apply(remove_ids=chunk_ids)
            self._indexes.committed(datastore_id, generation)
        self._blobs.delete_prefix(f"{document.tenant_id}/{datastore_id}/{document_id}")
        return True

    @staticmethod
    def _release_from_job(session: Session, job_id: str | None) -> None:
        """A queued document was taken over by a newer job: the old job stops counting it."""
        job = session.get(Job, job_id) if job_id else None
        if job is None or job.finished_at is not None:
            return
        job.total -= 1
        if job.done >= job.total:
            job.status = JobStatus.COMPLETED_WITH_ERRORS if job.failed else JobStatus.SUCCEEDED
            job.finished_at = utcnow()

    @staticmethod
    def _finish_job_item(session: Session, job_id: str | None, status: str) -> None:
        """A document deleted while in flight still counts as done for its job."""
        if job_id is None or status not in IN_FLIGHT_STATUSES:
            return
        job = session.get(Job, job_id)
        if job is not None:
            job.done += 1
            if job.done >= job.total:
                job.status = JobStatus.COMPLETED_WITH_ERRORS if job.failed else JobStatus.SUCCEEDED
                job.finished_at = utcnow()

    # -- jobs -------------------------------------------------------------------------------------------

    def get_job(self, principal: Principal, job_id: str) -> Job:
        """A job of the principal's tenant whose every document `principal` may read or manage (admins manage
        all); any other is "not found", like a document it may not read (its counts would reveal it)."""
        with self._db.session() as session:
            job = session.get(Job, job_id)
            hidden = (
                job is not None
                and session.scalar(
                    select(Document.id)
                    .where(Document.job_id == job_id, ~readable_by(principal), ~manageable_by(principal))
                    .limit(1)
                )
                is not None
            )
        if job is None or job.tenant_id != principal.tenant_id or hidden:
            raise NotFoundError(f"job {job_id} not found")
        return job

    def job_documents(self, principal: Principal, job_id: str, *, failed_only: bool = False) -> list[Document]:
        """The job's documents that `principal` may read (with their status and failure reasons)."""
        self.get_job(principal, job_id)
        query = select(Document).where(Document.job_id == job_id, readable_by(principal))
        if failed_only:
            query = query.where(Document.status.in_(FAILED_STATUSES))
        with self._db.session() as session:
            return list(session.scalars(query.order_by(Document.created_at, Document.id)))

    def job_failures(self, principal: Principal, job_id: str) -> list[Document]:
        return self.job_documents(principal, job_id, failed_only=True)
