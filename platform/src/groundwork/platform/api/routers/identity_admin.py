"""Identity administration for sign-in and provisioning (tenant admins): the tenant's SCIM tokens, and one
listing of users and groups with where each comes from (`local`, `oidc`, `scim`) for the UI's admin page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel

from groundwork.platform.api.deps import AuditDep, IdentitiesDep, PrincipalDep, ServicesDep
from groundwork.platform.errors import NotFoundError
from groundwork.platform.request_context import request_id

router = APIRouter(prefix="/v1/admin", tags=["admin"])


class ScimTokenOut(BaseModel):
    id: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedScimTokenOut(BaseModel):
    id: str
    token: str
    """Shown once: configure it as the bearer token of your identity provider's SCIM app."""
    base_url: str
    """The SCIM base URL path to configure (prefix it with this server's URL)."""


class IdentityUserOut(BaseModel):
    id: str
    name: str
    display_name: str
    email: str | None
    role: str
    disabled: bool
    source: str
    groups: list[str]


class IdentityGroupOut(BaseModel):
    id: str
    name: str
    source: str
    members: list[str]


class IdentitiesOut(BaseModel):
    users: list[IdentityUserOut]
    groups: list[IdentityGroupOut]


@router.post("/scim-tokens", status_code=201, summary="Create the tenant's SCIM bearer token (shown once)")
def create_scim_token(services: ServicesDep, audit: AuditDep, principal: PrincipalDep) -> IssuedScimTokenOut:
    if services.scim is None:
        raise NotFoundError("SCIM is not available")
    issued = services.scim.create_token(principal)
    audit.record(principal, "scim_token.create", request_id=request_id.get(), details={"token_id": issued.id})
    return IssuedScimTokenOut(id=issued.id, token=issued.token, base_url="/scim/v2")


@router.get("/scim-tokens", summary="The tenant's SCIM tokens (never their secrets)")
def list_scim_tokens(services: ServicesDep, principal: PrincipalDep) -> list[ScimTokenOut]:
    if services.scim is None:
        return []
    return [
        ScimTokenOut(id=t.id, created_at=t.created_at, revoked_at=t.revoked_at)
        for t in services.scim.list_tokens(principal)
    ]


@router.delete("/scim-tokens/{token_id}", status_code=204, summary="Revoke a SCIM token")
def revoke_scim_token(token_id: str, services: ServicesDep, audit: AuditDep, principal: PrincipalDep) -> Response:
    if services.scim is None:
        raise NotFoundError("SCIM is not available")
    services.scim.revoke_token(principal, token_id)
    audit.record(principal, "scim_token.revoke", request_id=request_id.get(), details={"token_id": token_id})
    return Response(status_code=204)


@router.get("/identities", summary="Users and groups of the tenant with their source (local, oidc, scim)")
def identities(identities: IdentitiesDep, principal: PrincipalDep) -> IdentitiesOut:
    groups = identities.list_groups(principal)
    member_of: dict[str, list[str]] = {}
    for group, names in groups:
        for name in names:
            member_of.setdefault(name, []).append(group.name)
    return IdentitiesOut(
        users=[
            IdentityUserOut(
                id=u.id,
                name=u.name,
                display_name=u.display_name,
                email=u.email,
                role=str(u.role),
                disabled=u.disabled,
                source=u.source,
                groups=sorted(member_of.get(u.name, [])),
            )
            for u in identities.list_users(principal)
        ],
        groups=[IdentityGroupOut(id=g.id, name=g.name, source=g.source, members=m) for g, m in groups],
    )
