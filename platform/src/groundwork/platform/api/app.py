"""`create_app(settings)`: the FastAPI application and its lifespan."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from groundwork.platform.access.bootstrap import bootstrap_admin_key
from groundwork.platform.api.body_limit import BodyLimitMiddleware
from groundwork.platform.api.errors import install_error_handlers
from groundwork.platform.api.routers import (
    admin,
    answers,
    auth,
    conversations,
    datastores,
    documents,
    health,
    identity_admin,
    jobs,
    me,
    metrics,
    openai_compat,
    scim,
    search,
    slack,
    ui,
)
from groundwork.platform.config import Settings
from groundwork.platform.mcp.http import mount_mcp
from groundwork.platform.request_context import request_id
from groundwork.platform.services import Services, build_services

logger = logging.getLogger(__name__)


def request_grace(settings: Settings) -> float:
    """Of `api.shutdown_grace_seconds`, what requests in flight get before the lifespan shuts down."""
    return min(5.0, settings.api.shutdown_grace_seconds / 4)


def lifespan_grace(settings: Settings) -> float:
    """What the lifespan's shutdown gets: the batch in flight and the local model's stop, in parallel."""
    return max(1.0, settings.api.shutdown_grace_seconds - request_grace(settings) - 1.0)


def create_app(settings: Settings, *, owner: str = "groundwork serve") -> FastAPI:
    """The API. Its lifespan opens the data directory (models, indexes, workers) and closes it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services: Services = await run_in_threadpool(build_services, settings, owner=owner, recover=False)
        if settings.access.enabled:
            await run_in_threadpool(
                bootstrap_admin_key, services.identities, settings.default_tenant, settings.bootstrap_key_file()
            )
        services.generation.start()  # in the background: answers are extractive until the model is up
        app.state.services = services
        if settings.ingestion.queue != "celery":  # documents left queued by the last run resume behind the API
            threading.Thread(target=services.documents.recover, name="groundwork-recover", daemon=True).start()
        try:
            async with mcp_sessions:  # /mcp (groundwork.platform.mcp)
                yield
        finally:
            app.state.services = None
            await services.generation.aclose()
            await run_in_threadpool(services.close, lifespan_grace(settings))

    app = FastAPI(
        title="Groundwork",
        version="0.1.0",
        description=(
            "Enterprise RAG: datastores, documents, ingestion jobs, hybrid search and grounded answers. Every "
            "/v1 route needs `Authorization: Bearer <API key or identity token>`."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = None
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes())

    @app.middleware("http")
    async def with_request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers["X-Request-ID"] = rid
        return response

    mcp_sessions = mount_mcp(app)  # before the routers: the UI's catch-all must not shadow /mcp
    routers = (
        health,
        metrics,
        me,
        admin,
        datastores,
        documents,
        jobs,
        search,
        answers,
        conversations,
        openai_compat,
        slack,
        ui,
        auth,
        identity_admin,
        scim,
    )
    for module in routers:
        router = module.router
        app.include_router(router)
    return app
