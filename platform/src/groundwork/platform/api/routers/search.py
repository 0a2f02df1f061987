"""Search: ranked passages for a query, from the documents the caller may read."""

from __future__ import annotations

from fastapi import APIRouter

from groundwork.platform.api.deps import AuditDep, PrincipalDep, SearchDep, SettingsDep
from groundwork.platform.api.schemas import SearchHitOut, SearchRequest, SearchResponse
from groundwork.platform.request_context import request_id
from groundwork.platform.search import MetadataFilter, SearchQuery

router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", summary="Hybrid (or dense, or lexical) search over datastores")
def search(
    body: SearchRequest, service: SearchDep, settings: SettingsDep, audit: AuditDep, principal: PrincipalDep
) -> SearchResponse:
    result = service.search(
        SearchQuery(
            query=body.query,
            datastore_ids=body.datastore_ids,
            top_k=body.top_k or settings.retrieval.default_top_k,
            mode=body.mode,
            filters=[MetadataFilter(f.key, f.op, f.value) for f in body.filters],
        ),
        principal,
    )
    audit.record(
        principal,
        "search",
        request_id=request_id.get(),
        query=body.query,
        datastore_ids=sorted({h.datastore_id for h in result.hits}),
        shown=[h.document_id for h in result.hits],
    )
    return SearchResponse(hits=[SearchHitOut.build(h) for h in result.hits], timings_ms=result.timings_ms)
