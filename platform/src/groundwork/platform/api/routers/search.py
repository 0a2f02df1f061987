"""Search: ranked passages for a query."""

from __future__ import annotations

from fastapi import APIRouter

from groundwork.platform.api.deps import SearchDep, SettingsDep
from groundwork.platform.api.schemas import SearchHitOut, SearchRequest, SearchResponse
from groundwork.platform.search import MetadataFilter, SearchQuery

router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", summary="Hybrid (or dense, or lexical) search over datastores")
def search(body: SearchRequest, service: SearchDep, settings: SettingsDep) -> SearchResponse:
    result = service.search(
        SearchQuery(
            query=body.query,
            datastore_ids=body.datastore_ids,
            top_k=body.top_k or settings.retrieval.default_top_k,
            mode=body.mode,
            filters=[MetadataFilter(f.key, f.op, f.value) for f in body.filters],
        )
    )
    return SearchResponse(hits=[SearchHitOut.build(h) for h in result.hits], timings_ms=result.timings_ms)
