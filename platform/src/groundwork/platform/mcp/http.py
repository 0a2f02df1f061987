"""/mcp on the API: the MCP server over streamable HTTP, in the API's process, authenticated like every /v1
route (`Authorization: Bearer <API key or identity token>` or `X-API-Key`) and rate-limited per key.

Stateless mode: every HTTP request is complete in itself (no session affinity between API replicas), and JSON
responses. The SDK's DNS-rebinding check (Host/Origin allow-list) is off: it guards unauthenticated localhost
servers, while this endpoint refuses any request without credentials, which a browser cannot add cross-origin."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from groundwork.platform.access.principal import Principal
from groundwork.platform.api.errors import error_response
from groundwork.platform.errors import AuthenticationError, NotReadyError, PlatformError, RetryLaterError
from groundwork.platform.mcp.errors import http_status
from groundwork.platform.mcp.knowledge import Knowledge, ServicesKnowledge
from groundwork.platform.mcp.server import build_server
from groundwork.platform.services import Services

MCP_PATH = "/mcp"


def _services(app: FastAPI) -> Services:
    services: Services | None = getattr(app.state, "services", None)
    if services is None:
        raise NotReadyError("the server is starting")
    return services


async def authenticate(app: FastAPI, headers: Mapping[str, str] | None) -> Principal:
    if headers is None:
        raise AuthenticationError("no credentials")
    services = _services(app)
    principal: Principal = await run_in_threadpool(
        services.authenticator.authenticate, headers.get("authorization"), headers.get("x-api-key")
    )
    return principal


class _Authenticated:
    """Refuses a request without valid credentials (401, the API's envelope) or over its rate limit (429),
    before the MCP transport sees it."""

    def __init__(self, inner: ASGIApp, app: FastAPI) -> None:
        self._inner = inner
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            principal = await authenticate(self._app, Request(scope).headers)
            _services(self._app).rate_limiter.check(principal.rate_key)
        except PlatformError as exc:
            status = http_status(exc)
            headers = {"WWW-Authenticate": 'Bearer realm="groundwork"'} if status == 401 else {}
            if isinstance(exc, RetryLaterError):
                headers["Retry-After"] = str(max(1, round(exc.retry_after_seconds)))
            await error_response(status, exc.code, str(exc), headers)(scope, receive, send)
            return
        await self._inner(scope, receive, send)


def mount_mcp(app: FastAPI) -> AbstractAsyncContextManager[None]:
    """Add /mcp to `app`; returns the context manager its lifespan must run (the MCP session manager)."""

    async def knowledge_for(headers: Mapping[str, str] | None) -> Knowledge:
        return ServicesKnowledge(_services(app), await authenticate(app, headers))

    server = build_server(knowledge_for)
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    app.router.routes.append(Route(MCP_PATH, endpoint=_Authenticated(StreamableHTTPASGIApp(manager), app)))
    return manager.run()
