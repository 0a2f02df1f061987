"""Browser sign-in: "Sign in with <provider>" (OIDC authorization code flow with PKCE), the session, sign-out.

These are navigations and same-origin calls of the chat UI, outside `/v1`. The session cookie is HttpOnly,
SameSite=Lax and Secure (except over plain http to a loopback address, for development); the sign-in cookie
that binds a pending sign-in to its browser lives for the sign-in's few minutes only.
"""

from __future__ import annotations

from datetime import datetime
from ipaddress import ip_address
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from groundwork.platform.access.oidc import SignInRefused
from groundwork.platform.access.sessions import CSRF_HEADER, SESSION_COOKIE, SIGN_IN_COOKIE, SessionEndedError
from groundwork.platform.access.sign_in import SignInService
from groundwork.platform.api.deps import ServicesDep, SettingsDep
from groundwork.platform.config import Settings
from groundwork.platform.errors import AuthenticationError, NotFoundError
from groundwork.platform.services import Services

router = APIRouter(tags=["sign-in"])


class ProviderOut(BaseModel):
    id: str
    name: str
    login_url: str


class SessionOut(BaseModel):
    tenant_id: str
    name: str
    role: str
    groups: list[str]
    provider: str
    csrf_token: str
    expires_at: datetime
    idle_expires_at: datetime


class LogoutOut(BaseModel):
    logout_url: str | None
    """The provider's end-session URL to send the browser to (RP-initiated logout), when it has one."""


def _sign_in(services: Services) -> SignInService:
    if services.sign_in is None:
        raise NotFoundError("sign-in with an identity provider is not configured")
    return services.sign_in


def _base_url(request: Request, settings: Settings) -> str:
    return (settings.access.sessions.public_url or str(request.base_url)).rstrip("/")


def _secure(request: Request, settings: Settings) -> bool:
    """Secure cookies, except for plain http to a loopback address."""
    url = settings.access.sessions.public_url or str(request.base_url)
    if not url.startswith("http://"):
        return True
    host = request.url.hostname or ""
    try:
        return not (host == "localhost" or ip_address(host.strip("[]")).is_loopback)
    except ValueError:
        return True


@router.get("/auth/providers", summary="Identity providers the UI offers ('Sign in with ...')")
def providers(services: ServicesDep) -> list[ProviderOut]:
    if services.sign_in is None:
        return []
    return [
        ProviderOut(id=p.id, name=p.display_name, login_url=f"/auth/oidc/{p.id}/login")
        for p in services.sign_in.providers.values()
    ]


@router.get("/auth/oidc/{provider}/login", summary="Start signing in: redirects to the identity provider")
def login(
    provider: str,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    next: Annotated[str | None, Query(description="A path on this server to return to")] = None,
) -> Response:
    sign_in = _sign_in(services)
    redirect_uri = f"{_base_url(request, settings)}/auth/oidc/{provider}/callback"
    started = sign_in.start(provider, redirect_uri=redirect_uri, next_path=next)
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(
        SIGN_IN_COOKIE,
        started.browser_secret,
        max_age=settings.access.sessions.sign_in_minutes * 60,
        path=f"/auth/oidc/{provider}/",
        secure=_secure(request, settings),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/auth/oidc/{provider}/callback", summary="The identity provider's answer: signs in, then redirects")
def callback(
    provider: str,
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    sign_in = _sign_in(services)
    try:
        done = sign_in.finish(
            provider,
            state=state,
            code=code,
            error=error,
            browser_secret=request.cookies.get(SIGN_IN_COOKIE),
            replaces=request.cookies.get(SESSION_COOKIE),
        )
    except SignInRefused as exc:
        response = RedirectResponse(f"/?sign_in_error={quote(exc.reason)}", status_code=303)
        response.delete_cookie(SIGN_IN_COOKIE, path=f"/auth/oidc/{provider}/")
        return response
    response = RedirectResponse(done.next_path, status_code=303)
    response.delete_cookie(SIGN_IN_COOKIE, path=f"/auth/oidc/{provider}/")
    response.set_cookie(
        SESSION_COOKIE,
        done.session.token,
        max_age=sign_in.sessions.max_age_seconds,
        path="/",
        secure=_secure(request, settings),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/auth/session", summary="The browser's session: who, until when, and its CSRF token")
async def session(request: Request, services: ServicesDep) -> SessionOut:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationError("not signed in")
    view = await run_in_threadpool(_sign_in(services).sessions.resolve, token)
    return SessionOut(
        tenant_id=view.principal.tenant_id,
        name=view.principal.name,
        role=view.principal.role.value,
        groups=sorted(view.principal.groups),
        provider=view.provider,
        csrf_token=view.csrf_token,
        expires_at=view.expires_at,
        idle_expires_at=view.idle_expires_at,
    )


@router.post("/auth/logout", summary="Sign out (needs X-CSRF-Token); says where the provider's logout is")
async def logout(request: Request, services: ServicesDep, settings: SettingsDep) -> Response:
    sign_in = _sign_in(services)
    token = request.cookies.get(SESSION_COOKIE)
    logout_url = None
    if token:
        try:
            await run_in_threadpool(sign_in.principal_for_cookie, token, "POST", request.headers.get(CSRF_HEADER))
        except SessionEndedError:
            token = None
    if token:
        logout_url = await run_in_threadpool(
            sign_in.sign_out, token, post_logout_redirect_uri=_base_url(request, settings) + "/"
        )
    response = Response(LogoutOut(logout_url=logout_url).model_dump_json(), media_type="application/json")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request, settings), httponly=True, samesite="lax")
    return response
