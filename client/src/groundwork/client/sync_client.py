"""`Groundwork`: the synchronous client (see `AsyncGroundwork` for the same API with `await`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from groundwork.client import calls as c
from groundwork.client import errors
from groundwork.client import models as m
from groundwork.client._base import (
    DEFAULT_TIMEOUT,
    UPLOAD_TIMEOUT,
    ClientConfig,
    check,
    connection_error,
    request_kwargs,
    result,
)
from groundwork.client.admin import Admin
from groundwork.client.calls import Call
from groundwork.client.events import AnswerEvent, ErrorEvent, SSEParser
from groundwork.client.retry import RetryPolicy

T = TypeVar("T")
FilterArg = Sequence[m.Filter | Mapping[str, Any]] | None
Progress = Callable[[m.Job], None]
UploadProgress = Callable[[int, int], None]


class Groundwork:
    """A Groundwork server's REST API. `with Groundwork(url, api_key=...) as gw: gw.search(...)`.

    Every call raises a `groundwork.client.errors.GroundworkError` subclass on failure. Calls are retried on 429
    and 503 (honouring Retry-After) and, when idempotent, on broken connections, per `retry`."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = ClientConfig(base_url, api_key=api_key, token=token, retry=retry)
        self._http = httpx.Client(
            base_url=self.config.base_url, headers=self.config.headers, timeout=timeout, transport=transport
        )
        self._sleep = sleep
        self.admin = Admin(self._send)

    def __enter__(self) -> Groundwork:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(call.route.method, call.path, **request_kwargs(call))
            except httpx.TransportError as exc:
                if not self.config.retry.should_retry(attempt, status=None, idempotent=call.route.safe_to_resend):
                    raise connection_error(exc) from exc
                self._sleep(self.config.retry.delay(attempt, None, self.config.rng))
                attempt += 1
                continue
            policy = self.config.retry
            if not response.is_success and policy.should_retry(
                attempt, status=response.status_code, idempotent=call.route.safe_to_resend
            ):
                wait = errors.parse_retry_after(response.headers.get("retry-after"))
                self._sleep(policy.delay(attempt, wait, self.config.rng))
                attempt += 1
                continue
            return result(call, response)

    def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Any API route the client has no method for, with the same credentials, retries and errors; returns
        the decoded JSON body (None without one)."""
        return self._send(c.raw(method, path, json=json, params=params))

    # Who am I
    def me(self) -> m.Me:
        return self._send(c.call("me", m.Me))

    # Datastores
    def create_datastore(self, name: str, description: str = "") -> m.Datastore:
        return self._send(
            c.call("create_datastore", m.Datastore, body=m.DatastoreCreate(name=name, description=description))
        )

    def list_datastores(self) -> list[m.Datastore]:
        listing: m.DatastoreList = self._send(c.call("list_datastores", m.DatastoreList))
        return listing.items

    def get_datastore(self, datastore: str) -> m.Datastore:
        return self._send(c.call("get_datastore", m.Datastore, path={"datastore": datastore}))

    def ensure_datastore(self, name: str) -> m.Datastore:
        """Datastore `name`, created if missing."""
        try:
            return self.get_datastore(name)
        except errors.NotFoundError:
            return self.create_datastore(name)

    def delete_datastore(self, datastore: str) -> None:
        self._send(c.call_empty("delete_datastore", path={"datastore": datastore}))

    def sync_datastore(
        self,
        datastore: str,
        source: str,
        *,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        delete: bool = True,
    ) -> m.SyncReport:
        body = m.SyncIn(source=source, include=list(include) if include else None, exclude=list(exclude), delete=delete)
        return self._send(
            c.call("sync_datastore", m.SyncReport, path={"datastore": datastore}, body=body, timeout=None)
        )

    # Documents
    def upload_document(self, datastore: str, item: m.UploadFile) -> m.UploadAccepted:
        files, form = c.upload_form(item)
        return self._send(
            c.call(
                "upload_document",
                m.UploadAccepted,
                path={"datastore": datastore},
                files=files,
                data=form,
                timeout=UPLOAD_TIMEOUT,
            )
        )

    def upload_batch(self, datastore: str, items: Sequence[m.UploadFile]) -> m.BatchAccepted:
        """One bulk request: every file in one job (see `upload_documents` for folders of any size)."""
        files, form = c.batch_form(items)
        return self._send(
            c.call(
                "upload_batch",
                m.BatchAccepted,
                path={"datastore": datastore},
                files=files,
                data=form,
                timeout=UPLOAD_TIMEOUT,
            )
        )

    def upload_documents(
        self,
        datastore: str,
        items: Sequence[m.UploadFile],
        *,
        progress: UploadProgress | None = None,
        max_files: int = 1000,
        max_bytes: int = 48 * 1024 * 1024,
    ) -> list[m.BatchAccepted]:
        """Upload many files in as few bulk requests as the server's limits allow (one job each; a request the
        server finds too large is split and sent again); `progress(sent, total)` after each request."""
        accepted: list[m.BatchAccepted] = []
        sent = 0
        pending = c.batches(items, max_files=max_files, max_bytes=max_bytes)[::-1]
        while pending:
            group = pending.pop()
            try:
                accepted.append(self.upload_batch(datastore, group))
            except errors.InvalidRequestError as exc:
                if not c.splittable(exc, group):
                    raise
                pending += c.halves(group)[::-1]  # the server's limits are lower than ours: smaller requests
                continue
            sent += len(group)
            if progress:
                progress(sent, len(items))
        return accepted

    def list_documents(
        self, datastore: str, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> m.DocumentList:
        params = {"status": status, "limit": limit, "offset": offset}
        return self._send(c.call("list_documents", m.DocumentList, path={"datastore": datastore}, params=params))

    def get_document(self, datastore: str, document_id: str) -> m.Document:
        return self._send(c.call("get_document", m.Document, path={"datastore": datastore, "document_id": document_id}))

    def set_acl(self, datastore: str, document_id: str, acl: m.Acl) -> m.Document:
        path = {"datastore": datastore, "document_id": document_id}
        return self._send(c.call("set_acl", m.Document, path=path, body=acl))

    def get_passage(self, datastore: str, document_id: str, chunk_id: int, *, context_chars: int = 600) -> m.Passage:
        """A passage (a hit's or citation's `chunk_id`) with `context_chars` of text on each side."""
        path = {"datastore": datastore, "document_id": document_id}
        params = {"chunk_id": chunk_id, "context_chars": context_chars}
        return self._send(c.call("get_passage", m.Passage, path=path, params=params))

    def retry_document(self, datastore: str, document_id: str) -> m.Job:
        return self._send(c.call("retry_document", m.Job, path={"datastore": datastore, "document_id": document_id}))

    def delete_document(self, datastore: str, document_id: str) -> None:
        self._send(c.call_empty("delete_document", path={"datastore": datastore, "document_id": document_id}))

    # Jobs
    def get_job(self, job_id: str) -> m.Job:
        return self._send(c.call("get_job", m.Job, path={"job_id": job_id}))

    def job_documents(self, job_id: str) -> list[m.Document]:
        return self._send(c.call_many("job_documents", m.Document, path={"job_id": job_id}))

    def job_failures(self, job_id: str) -> list[m.Document]:
        return self._send(c.call_many("job_failures", m.Document, path={"job_id": job_id}))

    def retry_job(self, job_id: str) -> m.Job:
        return self._send(c.call("retry_job", m.Job, path={"job_id": job_id}))

    def wait_for_job(
        self, job_id: str, *, progress: Progress | None = None, poll: float = 1.0, timeout: float | None = None
    ) -> m.Job:
        """Poll one job (one GET per `poll` seconds) until it ends; `progress(job)` after each poll."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if progress:
                progress(job)
            if job.finished:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise errors.GroundworkError(f"job {job_id} did not finish in {timeout}s", code="timeout")
            self._sleep(poll)

    # Search and answers
    def search(
        self,
        query: str,
        datastores: Sequence[str],
        *,
        top_k: int | None = None,
        mode: m.SearchMode = "hybrid",
        filters: FilterArg = None,
    ) -> m.SearchResponse:
        body = m.SearchRequest(
            query=query, datastore_ids=list(datastores), top_k=top_k, mode=mode, filters=c.filters(filters)
        )
        return self._send(c.call("search", m.SearchResponse, body=body))

    def answer(
        self,
        question: str,
        datastores: Sequence[str],
        *,
        filters: FilterArg = None,
        conversation_id: str | None = None,
        top_k: int | None = None,
    ) -> m.Answer:
        body = m.AnswerRequest(
            question=question,
            datastore_ids=list(datastores),
            filters=c.filters(filters),
            conversation_id=conversation_id,
            top_k=top_k,
        )
        return self._send(c.call("answer", m.Answer, body=body, timeout=None))

    def stream_answer(
        self,
        question: str,
        datastores: Sequence[str],
        *,
        filters: FilterArg = None,
        conversation_id: str | None = None,
        top_k: int | None = None,
        draft: bool = False,
    ) -> Iterator[AnswerEvent]:
        """The answer's events as they happen (`RetrievalEvent`, `ClaimEvent`, ..., `DoneEvent`); an `error`
        event raises `StreamError` with its code."""
        body = m.AnswerRequest(
            question=question,
            datastore_ids=list(datastores),
            filters=c.filters(filters),
            conversation_id=conversation_id,
            top_k=top_k,
            stream=True,
            draft=draft,
        )
        payload = body.model_dump(mode="json")
        attempt = 0
        try:
            while True:
                with self._http.stream("POST", "/v1/answer", json=payload, timeout=None) as response:
                    if not response.is_success:
                        response.read()
                        wait = errors.parse_retry_after(response.headers.get("retry-after"))
                        if self.config.retry.should_retry(attempt, status=response.status_code, idempotent=False):
                            self._sleep(self.config.retry.delay(attempt, wait, self.config.rng))
                            attempt += 1
                            continue
                        check(response)
                    parser = SSEParser()
                    for line in response.iter_lines():
                        event = parser.feed(line)
                        if event is not None:
                            yield _raise_on_error(event)
                    last = parser.close()
                    if last is not None:
                        yield _raise_on_error(last)
                    return
        except httpx.TransportError as exc:  # never resent: the answer may have started
            raise connection_error(exc) from exc

    # Conversations and feedback
    def list_conversations(self, *, limit: int = 50, offset: int = 0) -> list[m.Conversation]:
        listing: m.ConversationList = self._send(
            c.call("list_conversations", m.ConversationList, params={"limit": limit, "offset": offset})
        )
        return listing.items

    def get_conversation(self, conversation_id: str) -> m.ConversationDetail:
        return self._send(c.call("get_conversation", m.ConversationDetail, path={"conversation_id": conversation_id}))

    def rename_conversation(self, conversation_id: str, title: str) -> m.Conversation:
        body = m.ConversationRename(title=title)
        return self._send(
            c.call("rename_conversation", m.Conversation, path={"conversation_id": conversation_id}, body=body)
        )

    def delete_conversation(self, conversation_id: str) -> None:
        self._send(c.call_empty("delete_conversation", path={"conversation_id": conversation_id}))

    def add_feedback(self, conversation_id: str, message_id: int, rating: int, comment: str = "") -> m.Feedback:
        path: dict[str, str | int] = {"conversation_id": conversation_id, "message_id": message_id}
        return self._send(
            c.call("add_feedback", m.Feedback, path=path, body=m.FeedbackIn(rating=rating, comment=comment))
        )


def _raise_on_error(event: AnswerEvent) -> AnswerEvent:
    if isinstance(event, ErrorEvent):
        raise errors.StreamError(event.message or "the answer stream failed", code=event.code)
    return event
