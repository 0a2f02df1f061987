"""What CLI commands and evaluation run against: this process's services (working on the data directory)
or a running server over HTTP. Both expose the same small surface, so commands never care which.

Locally, commands act as the operator of a tenant (`Principal.operator`): whoever can open the data directory
can read every blob in it anyway. Remotely, they act as the API key they send, with its access."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.types import AnswerRequest
from groundwork.platform.db.models import Job
from groundwork.platform.documents import JobProgress, NewDocument
from groundwork.platform.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PlatformError,
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
    """Talks to a running server's REST API."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)

    def _check(self, response: httpx.Response) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        try:
            error = response.json()["error"]
            message, code = error["message"], error["code"]
        except (ValueError, KeyError, TypeError):
            message, code = response.text, "http_error"
        if response.status_code == 401:
            raise AuthenticationError(f"{message} (set GROUNDWORK_API_KEY or pass --api-key)")
        if response.status_code == 403:
            raise PermissionDeniedError(message)
        if response.status_code == 404:
            raise NotFoundError(message)
        if 400 <= response.status_code < 500:
            raise InvalidRequestError(f"{code}: {message}")
        raise PlatformError(f"server error {response.status_code} ({code}): {message}")

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One API call; errors become the platform's exceptions."""
        return self._check(self._client.request(method, path, json=json, params=params))

    def ensure_datastore(self, name: str) -> str:
        response = self._client.get(f"/v1/datastores/{name}")
        if response.status_code == 404:
            response = self._client.post("/v1/datastores", json={"name": name})
        return str(self._check(response)["id"])

    def submit(self, datastore_id: str, items: Sequence[NewDocument]) -> list[str]:
        job_ids: list[str] = []
        for item in items:
            data: dict[str, str] = {"source_uri": item.source_uri}
            if item.title:
                data["title"] = item.title
            if item.metadata:
                data["metadata"] = json.dumps(item.metadata)
            if item.acl is not None:
                data["acl"] = json.dumps(item.acl.to_json())
            response = self._client.post(
                f"/v1/datastores/{datastore_id}/documents",
                files={"file": (item.filename, item.data, item.declared_mime_type or "application/octet-stream")},
                data=data,
            )
            job_ids.append(self._check(response)["job"]["id"])
        return job_ids

    def job(self, job_id: str) -> JobState:
        return _remote_job_state(self._check(self._client.get(f"/v1/jobs/{job_id}")))

    def retry(self, job_id: str) -> JobState:
        return _remote_job_state(self._check(self._client.post(f"/v1/jobs/{job_id}/retry")))

    def failures(self, job_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._check(self._client.get(f"/v1/jobs/{job_id}/failures"))
        return result

    def sync(
        self, datastore_id: str, source: str, *, include: Sequence[str] | None, exclude: Sequence[str], delete: bool
    ) -> SyncReport:
        body = {"source": source, "include": list(include or ()), "exclude": list(exclude), "delete": delete}
        # The server lists (and downloads what changed) before it answers: no read timeout.
        data = self._check(self._client.post(f"/v1/datastores/{datastore_id}/sync", json=body, timeout=None))
        return SyncReport(
            source=data["source"],
            listed=data["listed"],
            selected=data["selected"],
            unchanged=data["unchanged"],
            submitted=data["submitted"],
            deleted=data["deleted"],
            rejected=[(item["source_uri"], item["reason"]) for item in data["rejected"]],
            job_ids=list(data["job_ids"]),
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
        body = {
            "query": query,
            "datastore_ids": list(datastores),
            "top_k": top_k,
            "mode": mode.value,
            "filters": [{"key": f.key, "op": f.op, "value": f.value} for f in filters],
        }
        hits: list[dict[str, Any]] = self._check(self._client.post("/v1/search", json=body))["hits"]
        return hits

    def ask(self, question: str, datastores: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        body = {"question": question, "datastore_ids": list(datastores), "stream": True}
        with self._client.stream("POST", "/v1/answer", json=body, timeout=None) as response:
            if not response.is_success:
                response.read()
                self._check(response)
            event = "message"
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    yield event, json.loads(line.removeprefix("data: "))

    def close(self) -> None:
        self._client.close()


def _job_state(job: Job) -> JobState:
    progress = JobProgress.of(job)
    return JobState(job.id, job.status, job.total, job.done, job.failed, progress.docs_per_second, progress.eta_seconds)


def _remote_job_state(body: dict[str, Any]) -> JobState:
    return JobState(
        body["id"],
        body["status"],
        body["total"],
        body["done"],
        body["failed"],
        body.get("docs_per_second"),
        body.get("eta_seconds"),
    )
