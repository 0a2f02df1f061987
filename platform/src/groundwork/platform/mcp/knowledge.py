"""What the MCP tools read, as one small protocol with two implementations: this process's services acting as
an authenticated principal (`ServicesKnowledge`, behind /mcp and local stdio) and a running server through
`groundwork.client` (`ClientKnowledge`, for `groundwork mcp --url`). Both return the REST API's JSON shapes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from groundwork.platform.access.principal import Principal
from groundwork.platform.answers.types import AnswerRequest
from groundwork.platform.api.schemas import AnswerIn, AnswerOut, DatastoreOut, SearchHitOut, SearchRequest
from groundwork.platform.previews import build_preview
from groundwork.platform.request_context import request_id
from groundwork.platform.search import MetadataFilter, SearchQuery
from groundwork.platform.services import Services

Json = dict[str, Any]


class Knowledge(Protocol):
    """The documents one principal may read. Errors: the platform's or the client's exceptions (with codes)."""

    async def list_datastores(self) -> list[Json]: ...

    async def datastore(self, reference: str) -> Json: ...

    async def search(
        self, query: str, datastores: Sequence[str], filters: Sequence[Json], top_k: int | None, mode: str
    ) -> Json: ...

    async def answer(
        self,
        question: str,
        datastores: Sequence[str],
        filters: Sequence[Json],
        top_k: int | None,
        conversation_id: str | None,
    ) -> Json: ...

    async def passage(self, datastore: str, document_id: str, chunk_id: int, context_chars: int) -> Json: ...


class ServicesKnowledge:
    """This process's services, as `principal`: the same calls, checks and audit entries as the REST API."""

    def __init__(self, services: Services, principal: Principal) -> None:
        self._services = services
        self._principal = principal

    async def list_datastores(self) -> list[Json]:
        return await run_in_threadpool(self._list_datastores)

    def _list_datastores(self) -> list[Json]:
        documents, principal = self._services.documents, self._principal
        return [
            DatastoreOut.build(d, documents.datastore_stats(principal, d.id)).model_dump(mode="json")
            for d in documents.list_datastores(principal)
        ]

    async def datastore(self, reference: str) -> Json:
        def get() -> Json:
            documents = self._services.documents
            found = documents.get_datastore(self._principal, reference)
            return DatastoreOut.build(found, documents.datastore_stats(self._principal, found.id)).model_dump(
                mode="json"
            )

        return await run_in_threadpool(get)

    async def search(
        self, query: str, datastores: Sequence[str], filters: Sequence[Json], top_k: int | None, mode: str
    ) -> Json:
        return await run_in_threadpool(self._search, query, datastores, filters, top_k, mode)

    def _search(
        self, query: str, datastores: Sequence[str], filters: Sequence[Json], top_k: int | None, mode: str
    ) -> Json:
        services, principal = self._services, self._principal
        rid = _new_request_id()
        body = SearchRequest.model_validate(  # the API's validation of the same request
            {"query": query, "datastore_ids": list(datastores), "filters": list(filters), "top_k": top_k, "mode": mode}
        )
        result = services.search.search(
            SearchQuery(
                query=body.query,
                datastore_ids=body.datastore_ids,
                top_k=body.top_k or services.settings.retrieval.default_top_k,
                mode=body.mode,
                filters=[MetadataFilter(f.key, f.op, f.value) for f in body.filters],
            ),
            principal,
        )
        services.audit.record(
            principal,
            "search",
            request_id=rid,
            query=query,
            datastore_ids=sorted({h.datastore_id for h in result.hits}),
            shown=[h.document_id for h in result.hits],
            details={"surface": "mcp"},
        )
        return {"hits": [SearchHitOut.build(h).model_dump(mode="json") for h in result.hits]}

    async def answer(
        self,
        question: str,
        datastores: Sequence[str],
        filters: Sequence[Json],
        top_k: int | None,
        conversation_id: str | None,
    ) -> Json:
        body = AnswerIn.model_validate(  # the API's validation of the same request
            {
                "question": question,
                "datastore_ids": list(datastores),
                "filters": list(filters),
                "conversation_id": conversation_id,
                "top_k": top_k,
            }
        )
        request = AnswerRequest(
            question=body.question,
            datastore_ids=body.datastore_ids,
            filters=[MetadataFilter(f.key, f.op, f.value) for f in body.filters],
            conversation_id=body.conversation_id,
            top_k=body.top_k,
            surface="mcp",
        )
        token = request_id.set(_new_request_id())
        try:
            result = await self._services.answers.answer(request, self._principal)
        finally:
            request_id.reset(token)
        return AnswerOut.build(result).model_dump(mode="json")

    async def passage(self, datastore: str, document_id: str, chunk_id: int, context_chars: int) -> Json:
        def read() -> Json:
            services, principal = self._services, self._principal
            found = services.documents.get_datastore(principal, datastore)
            services.documents.get_document(principal, found.id, document_id)
            preview = build_preview(services.database, principal, document_id, chunk_id, context_chars)
            services.audit.record(
                principal,
                "document.preview",
                request_id=_new_request_id(),
                datastore_ids=[found.id],
                shown=[document_id],
                details={"surface": "mcp"},
            )
            return dict(preview.__dict__)

        return await run_in_threadpool(read)


def _new_request_id() -> str:
    return uuid.uuid4().hex
