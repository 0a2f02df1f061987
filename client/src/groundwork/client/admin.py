"""Identity administration (tenant admins): users, groups, API keys, tenants, the audit log. `client.admin` of
both clients."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from groundwork.client import calls as c
from groundwork.client import models as m
from groundwork.client.calls import Call

T = TypeVar("T")
Role = Literal["reader", "editor", "admin"]
Kind = Literal["user", "service_account"]


class Sender(Protocol):
    def __call__(self, call: Call[T], /) -> T: ...


class AsyncSender(Protocol):
    def __call__(self, call: Call[T], /) -> Awaitable[T]: ...


def _audit_params(
    actor: str | None, action: str | None, document_id: str | None, since: datetime | None, limit: int
) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": action,
        "document_id": document_id,
        "since": since.isoformat() if since else None,
        "limit": limit,
    }


class Admin:
    def __init__(self, send: Sender) -> None:
        self._send = send

    def create_tenant(self, tenant_id: str, *, name: str = "", admin_user: str = "admin") -> m.TenantCreated:
        return self._send(
            c.call("create_tenant", m.TenantCreated, body=m.TenantIn(id=tenant_id, name=name, admin_user=admin_user))
        )

    def list_tenants(self) -> list[m.Tenant]:
        return self._send(c.call_many("list_tenants", m.Tenant))

    def create_user(
        self,
        name: str,
        *,
        role: Role = "reader",
        groups: Sequence[str] = (),
        email: str | None = None,
        kind: Kind = "user",
    ) -> m.User:
        body = m.UserIn(name=name, role=role, groups=list(groups), email=email, kind=kind)
        return self._send(c.call("create_user", m.User, body=body))

    def list_users(self) -> list[m.User]:
        return self._send(c.call_many("list_users", m.User))

    def get_user(self, user: str) -> m.User:
        return self._send(c.call("get_user", m.User, path={"user": user}))

    def update_user(self, user: str, *, role: Role | None = None, disabled: bool | None = None) -> m.User:
        body = m.UserPatch(role=role, disabled=disabled)
        return self._send(c.call("update_user", m.User, path={"user": user}, body=body))

    def delete_user(self, user: str) -> None:
        self._send(c.call_empty("delete_user", path={"user": user}))

    def create_group(self, name: str, *, description: str = "", members: Sequence[str] = ()) -> m.Group:
        body = m.GroupIn(name=name, description=description, members=list(members))
        return self._send(c.call("create_group", m.Group, body=body))

    def list_groups(self) -> list[m.Group]:
        return self._send(c.call_many("list_groups", m.Group))

    def delete_group(self, group: str) -> None:
        self._send(c.call_empty("delete_group", path={"group": group}))

    def add_members(self, group: str, users: Sequence[str]) -> None:
        self._send(c.call_empty("add_members", path={"group": group}, body=m.MembersIn(users=list(users))))

    def remove_member(self, group: str, user: str) -> None:
        self._send(c.call_empty("remove_member", path={"group": group, "user": user}))

    def create_api_key(
        self, user: str, *, role: Role | None = None, name: str = "", expires_in_days: float | None = None
    ) -> m.IssuedKey:
        body = m.ApiKeyIn(user=user, role=role, name=name, expires_in_days=expires_in_days)
        return self._send(c.call("create_api_key", m.IssuedKey, body=body))

    def list_api_keys(self) -> list[m.ApiKey]:
        return self._send(c.call_many("list_api_keys", m.ApiKey))

    def revoke_api_key(self, key_id: str) -> None:
        self._send(c.call_empty("revoke_api_key", path={"key_id": key_id}))

    def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        document_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[m.AuditEntry]:
        return self._send(
            c.call_many("audit", m.AuditEntry, params=_audit_params(actor, action, document_id, since, limit))
        )


class AsyncAdmin:
    def __init__(self, send: AsyncSender) -> None:
        self._send = send

    async def create_tenant(self, tenant_id: str, *, name: str = "", admin_user: str = "admin") -> m.TenantCreated:
        body = m.TenantIn(id=tenant_id, name=name, admin_user=admin_user)
        return await self._send(c.call("create_tenant", m.TenantCreated, body=body))

    async def list_tenants(self) -> list[m.Tenant]:
        return await self._send(c.call_many("list_tenants", m.Tenant))

    async def create_user(
        self,
        name: str,
        *,
        role: Role = "reader",
        groups: Sequence[str] = (),
        email: str | None = None,
        kind: Kind = "user",
    ) -> m.User:
        body = m.UserIn(name=name, role=role, groups=list(groups), email=email, kind=kind)
        return await self._send(c.call("create_user", m.User, body=body))

    async def list_users(self) -> list[m.User]:
        return await self._send(c.call_many("list_users", m.User))

    async def get_user(self, user: str) -> m.User:
        return await self._send(c.call("get_user", m.User, path={"user": user}))

    async def update_user(self, user: str, *, role: Role | None = None, disabled: bool | None = None) -> m.User:
        body = m.UserPatch(role=role, disabled=disabled)
        return await self._send(c.call("update_user", m.User, path={"user": user}, body=body))

    async def delete_user(self, user: str) -> None:
        await self._send(c.call_empty("delete_user", path={"user": user}))

    async def create_group(self, name: str, *, description: str = "", members: Sequence[str] = ()) -> m.Group:
        body = m.GroupIn(name=name, description=description, members=list(members))
        return await self._send(c.call("create_group", m.Group, body=body))

    async def list_groups(self) -> list[m.Group]:
        return await self._send(c.call_many("list_groups", m.Group))

    async def delete_group(self, group: str) -> None:
        await self._send(c.call_empty("delete_group", path={"group": group}))

    async def add_members(self, group: str, users: Sequence[str]) -> None:
        await self._send(c.call_empty("add_members", path={"group": group}, body=m.MembersIn(users=list(users))))

    async def remove_member(self, group: str, user: str) -> None:
        await self._send(c.call_empty("remove_member", path={"group": group, "user": user}))

    async def create_api_key(
        self, user: str, *, role: Role | None = None, name: str = "", expires_in_days: float | None = None
    ) -> m.IssuedKey:
        body = m.ApiKeyIn(user=user, role=role, name=name, expires_in_days=expires_in_days)
        return await self._send(c.call("create_api_key", m.IssuedKey, body=body))

    async def list_api_keys(self) -> list[m.ApiKey]:
        return await self._send(c.call_many("list_api_keys", m.ApiKey))

    async def revoke_api_key(self, key_id: str) -> None:
        await self._send(c.call_empty("revoke_api_key", path={"key_id": key_id}))

    async def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        document_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[m.AuditEntry]:
        return await self._send(
            c.call_many("audit", m.AuditEntry, params=_audit_params(actor, action, document_id, since, limit))
        )
