"""Dependency aliases for route handlers. `PrincipalDep` authenticates the request (API key or identity token,
or else the browser's session cookie) and applies the key's rate limit; every route that touches tenant data
depends on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.identities import IdentityService
from groundwork.platform.access.principal import Principal
from groundwork.platform.access.sessions import CSRF_HEADER, SESSION_COOKIE
from groundwork.platform.answers.service import AnswerService
from groundwork.platform.config import Settings
from groundwork.platform.conversations import ConversationStore
from groundwork.platform.documents import DocumentService
from groundwork.platform.errors import NotReadyError
from groundwork.platform.search import SearchService
from groundwork.platform.services import Services


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise NotReadyError("the server is starting")
    return services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_principal(request: Request, services: Annotated[Services, Depends(get_services)]) -> Principal:
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    authorization, api_key = request.headers.get("authorization"), request.headers.get("x-api-key")
    cookie = request.cookies.get(SESSION_COOKIE)
    principal: Principal
    if cookie and not authorization and not api_key and services.sign_in and services.authenticator.enabled:
        # A browser signed in with an identity provider; state-changing requests need the CSRF token.
        principal = await run_in_threadpool(
            services.sign_in.principal_for_cookie, cookie, request.method, request.headers.get(CSRF_HEADER)
        )
    else:
        principal = await run_in_threadpool(services.authenticator.authenticate, authorization, api_key)
    services.rate_limiter.check(principal.rate_key)
    request.state.principal = principal
    return principal


def get_documents(services: Annotated[Services, Depends(get_services)]) -> DocumentService:
    return services.documents


def get_search(services: Annotated[Services, Depends(get_services)]) -> SearchService:
    return services.search


def get_answers(services: Annotated[Services, Depends(get_services)]) -> AnswerService:
    return services.answers


def get_conversations(services: Annotated[Services, Depends(get_services)]) -> ConversationStore:
    return services.conversations


def get_identities(services: Annotated[Services, Depends(get_services)]) -> IdentityService:
    return services.identities


def get_audit(services: Annotated[Services, Depends(get_services)]) -> AuditLog:
    return services.audit


AnswersDep = Annotated[AnswerService, Depends(get_answers)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
ConversationsDep = Annotated[ConversationStore, Depends(get_conversations)]
IdentitiesDep = Annotated[IdentityService, Depends(get_identities)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DocumentsDep = Annotated[DocumentService, Depends(get_documents)]
SearchDep = Annotated[SearchService, Depends(get_search)]
ServicesDep = Annotated[Services, Depends(get_services)]
