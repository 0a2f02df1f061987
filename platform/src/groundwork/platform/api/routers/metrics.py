"""Prometheus metrics of this process (ingestion tasks, queue depth, documents per state)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from groundwork.platform.api.deps import ServicesDep
from groundwork.platform.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    body = await run_in_threadpool(services.metrics.render)
    return Response(content=body, media_type=CONTENT_TYPE)
