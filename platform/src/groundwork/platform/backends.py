"""What CLI commands and evaluation run against: this process's services (working on the data directory)
or a running server over HTTP. Both expose the same small surface, so commands never care which.

Locally, commands act as the operator of a tenant (`Principal.operator`): whoever can open the data directory
can read every blob in it anyway. Remotely, they act as the API key they send, with its access."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from groundwork.client import Filter as ClientFilter
from groundwork.client import Groundwork, RetryPolicy, UploadFile
from groundwork.client import errors as client_errors
from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.types import AnswerRequest
from groundwork.platform.db.models import Job
from groundwork.platform.documents import JobProgress, NewDocument
from groundwork.platform.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PlatformError,
    RateLimitedError,
    RetryLaterError,
)
from groundwork.platform.search import MetadataFilter, SearchQuery
from groundwork.platform.services import Services
from groundwork.platform.sync import SyncReport, SyncService
from groundwork.retrieval.types import SearchMode


@dataclass(frozen=True)
class JobState:
    id: str
    status: str
    total: int
    done: int
    failed: int
    docs_per_second: float | None = None
    eta_seconds: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "completed_with_errors")


class Backend(Protocol):
    def ensure_datastore(self, name: str) -> str:
        """The id of datastore `name`, created if missing."""
        ...

    def submit(self, datastore_id: str, items: Sequence[NewDocument]) -> list[str]:
        """Submit documents; returns the ids of the jobs created."""
        ...

    def job(self, job_id: str) -> JobState: ...

    def failures(self, job_id: str) -> list[dict[str, Any]]: ...

    def sync(
        self, datastore_id: str, source: str, *, include: Sequence[str] | None, exclude: Sequence[str], delete: bool
    ) -> SyncReport:
        """Make the datastore match a `gs://` prefix (or, locally, a folder); see `groundwork.platform.sync`."""
        ...

    def retry(self, job_id: str) -> JobState:
        """Queue the job's failed and dead-lettered documents again; returns the new job."""
        ...

    def search(
        self,
        query: str,
        datastores: Sequence[str],
        *,
        top_k: int,
        mode: SearchMode,
        filters: Sequence[MetadataFilter] = (),
    ) -> list[dict[str, Any]]: ...

    def ask(self, question: str, datastores: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The answer's events as (event, data) pairs, as they happen (see `AnswerService.stream`)."""
        ...

    def close(self) -> None: ...


class LocalBackend:
    """Works on the data directory in this process (it holds the data directory lock)."""

    def __init__(self, services: Services, principal: Principal | None = None) -> None:
        self.services = services
        self.principal = principal or Principal.operator(services.settings.default_tenant)
        self._loop: asyncio.AbstractEventLoop | None = None

    def ensure_datastore(self, name: str) -> str:
        return self.services.documents.get_or_create_datastore(self.principal, name).id

    def submit(self, datastore_id: str, items: Sequence[NewDocument]) -> list[str]:
        return [self.services.documents.submit(self.principal, datastore_id, items).job.id]

    def job(self, job_id: str) -> JobState:
        return _job_state(self.services.documents.get_job(self.principal, job_id))

    def retry(self, job_id: str) -> JobState:
        job = self.services.documents.get_job(self.principal, job_id)
        return _job_state(self.services.documents.retry(self.principal, job.datastore_id, job_id=job_id))

    def failures(self, job_id: str) -> list[dict[str, Any]]:
        return [
            {"source_uri": d.source_uri, "failure_code": d.failure_code, "failure_reason": d.failure_reason}
            for d in self.services.documents.job_failures(self.principal, job_id)
        ]

    def sync(
        self, datastore_id: str, source: str, *, include: Sequence[str] | None, exclude: Sequence[str], delete: bool
    ) -> SyncReport:
        services = self.services
        return SyncService(services.database, services.documents, services.settings).sync(
            self.principal, datastore_id, source, include=include, exclude=exclude, delete=delete
        )

    def search(
        self,
        query: str,
        datastores: Sequence[str],
        *,
        top_k: int,
        mode: SearchMode,
        filters: Sequence[MetadataFilter] = (),
    ) -> list[dict[str, Any]]:
        result = self.services.search.search(
            SearchQuery(query=query, datastore_ids=list(datastores), top_k=top_k, mode=mode, filters=filters),
            self.principal,
        )
        return [dict(hit.__dict__) for hit in result.hits]

    def ask(self, question: str, datastores: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        self.services.generation.start(wait=True)
        events: queue.Queue[tuple[str, dict[str, Any]] | BaseException | None] = queue.Queue()
        request = AnswerRequest(question=question, datastore_ids=list(datastores), surface="cli")

        async def produce() -> None:
            try:
                async for event in self.services.answers.stream(request, self.principal):
                    events.put((event.event, event.data))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread, which re-raises it
                events.put(exc)
            finally:
                events.put(None)

        asyncio.run_coroutine_threadsafe(produce(), self._event_loop())
        while (item := events.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        """One event loop for this backend's lifetime: the model client's connections belong to it."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, name="groundwork-answers", daemon=True).start()
        return self._loop

    def close(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self.services.generation.aclose(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self.services.close()


class RemoteBackend:
    """Talks to a running server's REST API through `groundwork.client`: documents go up in bulk requests (one
    job each, not one request per file), a job is polled with one GET, 429 and 503 are waited out (Retry-After,
    capped and jittered), and the server's error codes reach the user unchanged (`rate_limited`, ...)."""

    def __init__(
        self, base_url: str, *, api_key: str | None = None, timeout: float = 60.0, retry: RetryPolicy | None = None
    ) -> None:
        self.client = Groundwork(base_url, api_key=api_key, timeout=timeout, retry=retry or RetryPolicy(max_retries=8))
        self._refused: dict[str, list[dict[str, Any]]] = {}

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One call of a route the client has no method for; errors become the platform's exceptions."""
        with remote_errors():
            return self.client.request(method, path, json=json, params=params)

    def ensure_datastore(self, name: str) -> str:
        with remote_errors():
            return self.client.ensure_datastore(name).id

    def submit(self, datastore_id: str, items: Sequence[NewDocument]) -> list[str]:
        uploads = [_upload(item) for item in items]
        uris = {u.filename: u.source_uri or "" for u in uploads}
        with remote_errors():
            accepted = self.client.upload_documents(datastore_id, uploads)
        for batch in accepted:
            self._refused[batch.job.id] = [
                {"source_uri": uris.get(r.filename, r.filename), "failure_code": r.code, "failure_reason": r.message}
                for r in batch.refused
            ]
        return [batch.job.id for batch in accepted]

    def job(self, job_id: str) -> JobState:
        with remote_errors():
            job = self.client.get_job(job_id)
        refused = len(self._refused.get(job_id, ()))  # refused at upload: counted as failed, as locally
        return JobState(
            job.id,
            job.status,
            job.total + refused,
            job.done + refused,
            job.failed + refused,
            job.docs_per_second,
            job.eta_seconds,
        )

    def retry(self, job_id: str) -> JobState:
        with remote_errors():
            job = self.client.retry_job(job_id)
        return JobState(job.id, job.status, job.total, job.done, job.failed, job.docs_per_second, job.eta_seconds)

    def failures(self, job_id: str) -> list[dict[str, Any]]:
        with remote_errors():
            failed = self.client.job_failures(job_id)
        return self._refused.get(job_id, []) + [
            {"source_uri": d.source_uri, "failure_code": d.failure_code, "failure_reason": d.failure_reason}
            for d in failed
        ]

    def sync(
        self, datastore_id: str, source: str, *, include: Sequence[str] | None, exclude: Sequence[str], delete: bool
    ) -> SyncReport:
        # The server lists (and downloads what changed) before it answers: no read timeout.
        with remote_errors():
            data = self.client.sync_datastore(datastore_id, source, include=include, exclude=exclude, delete=delete)
        return SyncReport(
            source=data.source,
            listed=data.listed,
            selected=data.selected,
            unchanged=data.unchanged,
            submitted=data.submitted,
            deleted=data.deleted,
            rejected=[(item.source_uri, item.reason) for item in data.rejected],
            job_ids=list(data.job_ids),
        )

    def search(
        self,
        query: str,
        datastores: Sequence[str],
        *,
        top_k: int,
        mode: SearchMode,
        filters: Sequence[MetadataFilter] = (),
    ) -> list[dict[str, Any]]:
        wire = [ClientFilter(key=f.key, op=f.op, value=f.value) for f in filters]
        with remote_errors():
            found = self.client.search(query, datastores, top_k=top_k, mode=mode.value, filters=wire)
        return [hit.model_dump(mode="json") for hit in found.hits]

    def ask(self, question: str, datastores: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        with remote_errors():
            for event in self.client.stream_answer(question, datastores):
                yield event.event, event.data

    def close(self) -> None:
        self.client.close()


@contextmanager
def remote_errors() -> Iterator[None]:
    """The client's errors as the platform's, keeping the server's code (`rate_limited`, `not_found`, ...)."""
    try:
        yield
    except client_errors.GroundworkError as exc:
        raise _platform_error(exc) from exc


def _platform_error(exc: client_errors.GroundworkError) -> PlatformError:
    message = exc.message
    error: PlatformError
    if isinstance(exc, client_errors.AuthenticationError):
        error = AuthenticationError(f"{message} (set GROUNDWORK_API_KEY or pass --api-key)")
    elif isinstance(exc, client_errors.PermissionDeniedError):
        error = PermissionDeniedError(message)
    elif isinstance(exc, client_errors.NotFoundError):
        error = NotFoundError(message)
    elif isinstance(exc, client_errors.RateLimitedError):
        error = RateLimitedError(f"{message} (still refused after retries)", retry_after_seconds=exc.retry_after or 1)
    elif isinstance(exc, client_errors.RetryLaterError):
        error = RetryLaterError(f"{message} (still refused after retries)", retry_after_seconds=exc.retry_after or 1)
    elif isinstance(exc, client_errors.ConflictError):
        error = ConflictError(message)
    elif isinstance(exc, client_errors.InvalidRequestError):
        error = InvalidRequestError(message)
    elif isinstance(exc, client_errors.ConnectionError):
        error = PlatformError(f"cannot reach the server: {message}")
    else:
        error = PlatformError(f"server error {exc.status} ({exc.code}): {message}")
    error.code = exc.code
    return error


def _upload(item: NewDocument) -> UploadFile:
    return UploadFile(
        filename=item.filename,
        data=item.data,
        content_type=item.declared_mime_type or "application/octet-stream",
        source_uri=item.source_uri,
        title=item.title,
        metadata=item.metadata or None,
        acl=None if item.acl is None else item.acl.to_json(),
    )


def _job_state(job: Job) -> JobState:
    progress = JobProgress.of(job)
    return JobState(job.id, job.status, job.total, job.done, job.failed, progress.docs_per_second, progress.eta_seconds)
