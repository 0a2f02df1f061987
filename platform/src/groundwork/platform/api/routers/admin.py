"""Identity administration (tenant admins): users and service accounts, groups, API keys, the audit log; and,
for admins of the operator tenant only, new tenants. Everything is scoped to the caller's tenant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from groundwork.platform.access.audit import AuditEntry
from groundwork.platform.access.principal import Principal
from groundwork.platform.api.deps import AuditDep, IdentitiesDep, PrincipalDep
from groundwork.platform.api.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    GroupIn,
    GroupOut,
    IssuedKeyOut,
    MembersIn,
    TenantCreated,
    TenantIn,
    TenantOut,
    UserIn,
    UserOut,
    UserPatch,
)
from groundwork.platform.db.models import utcnow
from groundwork.platform.request_context import request_id

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _record(audit: AuditDep, principal: Principal, action: str, **details: object) -> None:
    audit.record(principal, action, request_id=request_id.get(), details=dict(details))


@router.post("/tenants", status_code=201, summary="Create a tenant with its first admin and key (operator tenant)")
def create_tenant(body: TenantIn, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> TenantCreated:
    tenant, issued = identities.create_tenant_with_admin(principal, body.id, name=body.name, admin_user=body.admin_user)
    _record(audit, principal, "tenant.create", tenant=tenant.id, admin_user=body.admin_user, key_id=issued.key.id)
    return TenantCreated.build(tenant, issued)


@router.get("/tenants", summary="Tenants (the operator tenant's admins see all; others their own)")
def list_tenants(identities: IdentitiesDep, principal: PrincipalDep) -> list[TenantOut]:
    return [TenantOut(id=t.id, name=t.name, created_at=t.created_at) for t in identities.list_tenants(principal)]


@router.post("/users", status_code=201, summary="Create a user or service account")
def create_user(body: UserIn, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> UserOut:
    user = identities.create_user(
        principal,
        body.name,
        role=body.role,
        email=body.email,
        display_name=body.display_name,
        kind=body.kind,
        groups=body.groups,
    )
    _record(audit, principal, "user.create", user=user.name, role=user.role)
    return UserOut.build(user, sorted(body.groups))


@router.get("/users", summary="Users and service accounts of the tenant")
def list_users(identities: IdentitiesDep, principal: PrincipalDep) -> list[UserOut]:
    members: dict[str, list[str]] = {}
    for group, names in identities.list_groups(principal):
        for name in names:
            members.setdefault(name, []).append(group.name)
    return [UserOut.build(u, sorted(members.get(u.name, []))) for u in identities.list_users(principal)]


@router.get("/users/{user}", summary="A user (by id or name)")
def get_user(user: str, identities: IdentitiesDep, principal: PrincipalDep) -> UserOut:
    found = identities.get_user(principal, user)
    return UserOut.build(found, identities.user_groups(principal, found.id))


@router.patch("/users/{user}", summary="Change a user's role, disable or enable it (takes effect on the next request)")
def update_user(
    user: str, body: UserPatch, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep
) -> UserOut:
    found = identities.update_user(
        principal, user, role=body.role, disabled=body.disabled, email=body.email, display_name=body.display_name
    )
    _record(audit, principal, "user.update", user=found.name, **body.model_dump(exclude_none=True))
    return UserOut.build(found, identities.user_groups(principal, found.id))


@router.delete("/users/{user}", status_code=204, summary="Delete a user with its API keys and memberships")
def delete_user(user: str, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> Response:
    identities.delete_user(principal, user)
    _record(audit, principal, "user.delete", user=user)
    return Response(status_code=204)


@router.post("/groups", status_code=201, summary="Create a group")
def create_group(body: GroupIn, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> GroupOut:
    group = identities.create_group(principal, body.name, body.description)
    if body.members:
        identities.add_members(principal, group.name, body.members)
    _record(audit, principal, "group.create", group=group.name, members=sorted(body.members))
    return GroupOut(id=group.id, name=group.name, description=group.description, members=sorted(body.members))


@router.get("/groups", summary="Groups with their members")
def list_groups(identities: IdentitiesDep, principal: PrincipalDep) -> list[GroupOut]:
    return [
        GroupOut(id=g.id, name=g.name, description=g.description, members=members)
        for g, members in identities.list_groups(principal)
    ]


@router.delete("/groups/{group}", status_code=204, summary="Delete a group (ACLs naming it then match nobody)")
def delete_group(group: str, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> Response:
    identities.delete_group(principal, group)
    _record(audit, principal, "group.delete", group=group)
    return Response(status_code=204)


@router.post("/groups/{group}/members", status_code=204, summary="Add users to a group")
def add_members(
    group: str, body: MembersIn, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep
) -> Response:
    identities.add_members(principal, group, body.users)
    _record(audit, principal, "group.add_members", group=group, users=sorted(body.users))
    return Response(status_code=204)


@router.delete(
    "/groups/{group}/members/{user}",
    status_code=204,
    summary="Remove a user from a group (its next request no longer reads the group's documents)",
)
def remove_member(
    group: str, user: str, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep
) -> Response:
    identities.remove_members(principal, group, [user])
    _record(audit, principal, "group.remove_member", group=group, user=user)
    return Response(status_code=204)


@router.post("/api-keys", status_code=201, summary="Create an API key (the token is returned once)")
def create_key(body: ApiKeyIn, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> IssuedKeyOut:
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    issued = identities.create_key(principal, body.user, role=body.role, name=body.name, expires_at=expires)
    _record(audit, principal, "key.create", key_id=issued.key.id, user=issued.user_name, role=issued.key.role)
    return IssuedKeyOut(**ApiKeyOut.build(issued.key, issued.user_name).model_dump(), token=issued.token)


@router.get("/api-keys", summary="The tenant's API keys (never their secrets)")
def list_keys(identities: IdentitiesDep, principal: PrincipalDep) -> list[ApiKeyOut]:
    return [ApiKeyOut.build(key, user) for key, user in identities.list_keys(principal)]


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API key (refused from the next request on)")
def revoke_key(key_id: str, identities: IdentitiesDep, audit: AuditDep, principal: PrincipalDep) -> Response:
    identities.revoke_key(principal, key_id)
    _record(audit, principal, "key.revoke", key_id=key_id)
    return Response(status_code=204)


@router.get(
    "/audit",
    summary="The audit log, newest first: who asked what and which documents were shown or cited (titles only "
    "of documents the caller may read)",
)
def audit_log(
    audit: AuditDep,
    principal: PrincipalDep,
    actor: Annotated[str | None, Query(description="Only this user's entries")] = None,
    action: Annotated[str | None, Query(description="search, answer, chat.completions, document.preview, ...")] = None,
    document_id: Annotated[str | None, Query(description="Only entries that showed or cited this document")] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AuditEntry]:
    entries: list[AuditEntry] = audit.entries(
        principal,
        actor=actor,
        action=action,
        document_id=document_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return entries
