"""Identity administration for the CLI: on the data directory (as the tenant's operator) or through a server's
`/v1/admin` API (as the admin key sent). Both return the API's JSON shapes, so commands print one format."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol, cast

from groundwork.client.admin import Kind as ClientKind
from groundwork.client.admin import Role as ClientRole
from groundwork.client.models import Acl as ClientAcl
from groundwork.platform.access.acl import DocumentAcl, change_acl
from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.identities import IdentityService
from groundwork.platform.access.principal import Principal
from groundwork.platform.api.schemas import ApiKeyOut, DocumentOut, GroupOut, IssuedKeyOut, TenantCreated, UserOut
from groundwork.platform.backends import RemoteBackend, remote_errors
from groundwork.platform.config import Settings
from groundwork.platform.db.models import Role, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError

Json = dict[str, Any]


class AdminBackend(Protocol):
    def create_user(self, name: str, *, role: Role, email: str | None, groups: list[str], kind: str) -> Json: ...
    def list_users(self) -> list[Json]: ...
    def update_user(self, name: str, *, role: Role | None = None, disabled: bool | None = None) -> Json: ...
    def delete_user(self, name: str) -> None: ...
    def create_group(self, name: str, members: list[str]) -> Json: ...
    def list_groups(self) -> list[Json]: ...
    def add_members(self, group: str, users: list[str]) -> None: ...
    def remove_member(self, group: str, user: str) -> None: ...
    def create_key(self, user: str, *, role: Role | None, name: str, expires_in_days: float | None) -> Json: ...
    def list_keys(self) -> list[Json]: ...
    def revoke_key(self, key_id: str) -> None: ...
    def create_tenant(self, tenant_id: str, admin_user: str) -> Json: ...
    def audit(self, *, actor: str | None, action: str | None, limit: int) -> list[Json]: ...
    def set_acl(self, datastore: str, document_id: str, acl: DocumentAcl) -> Json: ...


class LocalAdmin:
    """Works on the metadata store directly, as the operator of `tenant`. Identities, ACLs and the audit log live
    only there (no index or blob is touched), so this needs neither the models nor the data directory's lock and
    works beside a running server."""

    def __init__(self, database: Database, settings: Settings, tenant: str) -> None:
        self._database = database
        self._operator_tenant = settings.default_tenant
        self._identities = IdentityService(database, operator_tenant=settings.default_tenant)
        self._audit = AuditLog(database)
        self._identities.ensure_tenant(settings.default_tenant)
        self._identities.ensure_tenant(tenant)
        self._actor = Principal.operator(tenant)

    def create_user(self, name: str, *, role: Role, email: str | None, groups: list[str], kind: str) -> Json:
        user = self._identities.create_user(self._actor, name, role=role, email=email, groups=groups, kind=kind)
        return UserOut.build(user, sorted(groups)).model_dump(mode="json")

    def list_users(self) -> list[Json]:
        members: dict[str, list[str]] = {}
        for group, names in self._identities.list_groups(self._actor):
            for name in names:
                members.setdefault(name, []).append(group.name)
        users = self._identities.list_users(self._actor)
        return [UserOut.build(u, sorted(members.get(u.name, []))).model_dump(mode="json") for u in users]

    def update_user(self, name: str, *, role: Role | None = None, disabled: bool | None = None) -> Json:
        user = self._identities.update_user(self._actor, name, role=role, disabled=disabled)
        return UserOut.build(user, self._identities.user_groups(self._actor, user.id)).model_dump(mode="json")

    def delete_user(self, name: str) -> None:
        self._identities.delete_user(self._actor, name)

    def create_group(self, name: str, members: list[str]) -> Json:
        group = self._identities.create_group(self._actor, name)
        if members:
            self._identities.add_members(self._actor, name, members)
        return GroupOut(id=group.id, name=group.name, description="", members=sorted(members)).model_dump(mode="json")

    def list_groups(self) -> list[Json]:
        return [
            GroupOut(id=g.id, name=g.name, description=g.description, members=m).model_dump(mode="json")
            for g, m in self._identities.list_groups(self._actor)
        ]

    def add_members(self, group: str, users: list[str]) -> None:
        self._identities.add_members(self._actor, group, users)

    def remove_member(self, group: str, user: str) -> None:
        self._identities.remove_members(self._actor, group, [user])

    def create_key(self, user: str, *, role: Role | None, name: str, expires_in_days: float | None) -> Json:
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        issued = self._identities.create_key(self._actor, user, role=role, name=name, expires_at=expires)
        key = ApiKeyOut.build(issued.key, issued.user_name).model_dump()
        return IssuedKeyOut(**key, token=issued.token).model_dump(mode="json")

    def list_keys(self) -> list[Json]:
        return [ApiKeyOut.build(k, u).model_dump(mode="json") for k, u in self._identities.list_keys(self._actor)]

    def revoke_key(self, key_id: str) -> None:
        self._identities.revoke_key(self._actor, key_id)

    def create_tenant(self, tenant_id: str, admin_user: str) -> Json:
        operator = Principal.operator(self._operator_tenant)
        tenant, issued = self._identities.create_tenant_with_admin(operator, tenant_id, admin_user=admin_user)
        return TenantCreated.build(tenant, issued).model_dump(mode="json")

    def audit(self, *, actor: str | None, action: str | None, limit: int) -> list[Json]:
        entries = self._audit.entries(self._actor, actor=actor, action=action, limit=limit)
        return [
            {
                **{k: v for k, v in e.__dict__.items() if k not in ("shown", "cited")},
                "at": e.at.isoformat(),
                "shown": [d.__dict__ for d in e.shown],
                "cited": [d.__dict__ for d in e.cited],
            }
            for e in entries
        ]

    def set_acl(self, datastore: str, document_id: str, acl: DocumentAcl) -> Json:
        document = change_acl(self._database, self._actor, datastore, document_id, acl)
        return DocumentOut.build(document).model_dump(mode="json")


class RemoteAdmin:
    """Calls a server's `/v1/admin` API with an admin key, through `groundwork.client`."""

    def __init__(self, remote: RemoteBackend) -> None:
        self._admin = remote.client.admin
        self._client = remote.client

    def create_user(self, name: str, *, role: Role, email: str | None, groups: list[str], kind: str) -> Json:
        with remote_errors():
            user = self._admin.create_user(name, role=_role(role), groups=groups, email=email, kind=_kind(kind))
        return user.model_dump(mode="json")

    def list_users(self) -> list[Json]:
        with remote_errors():
            return [u.model_dump(mode="json") for u in self._admin.list_users()]

    def update_user(self, name: str, *, role: Role | None = None, disabled: bool | None = None) -> Json:
        with remote_errors():
            user = self._admin.update_user(name, role=_role(role) if role else None, disabled=disabled)
        return user.model_dump(mode="json")

    def delete_user(self, name: str) -> None:
        with remote_errors():
            self._admin.delete_user(name)

    def create_group(self, name: str, members: list[str]) -> Json:
        with remote_errors():
            return self._admin.create_group(name, members=members).model_dump(mode="json")

    def list_groups(self) -> list[Json]:
        with remote_errors():
            return [g.model_dump(mode="json") for g in self._admin.list_groups()]

    def add_members(self, group: str, users: list[str]) -> None:
        with remote_errors():
            self._admin.add_members(group, users)

    def remove_member(self, group: str, user: str) -> None:
        with remote_errors():
            self._admin.remove_member(group, user)

    def create_key(self, user: str, *, role: Role | None, name: str, expires_in_days: float | None) -> Json:
        with remote_errors():
            key = self._admin.create_api_key(
                user, role=_role(role) if role else None, name=name, expires_in_days=expires_in_days
            )
        return key.model_dump(mode="json")

    def list_keys(self) -> list[Json]:
        with remote_errors():
            return [k.model_dump(mode="json") for k in self._admin.list_api_keys()]

    def revoke_key(self, key_id: str) -> None:
        with remote_errors():
            self._admin.revoke_api_key(key_id)

    def create_tenant(self, tenant_id: str, admin_user: str) -> Json:
        with remote_errors():
            return self._admin.create_tenant(tenant_id, admin_user=admin_user).model_dump(mode="json")

    def audit(self, *, actor: str | None, action: str | None, limit: int) -> list[Json]:
        with remote_errors():
            return [e.model_dump(mode="json") for e in self._admin.audit(actor=actor, action=action, limit=limit)]

    def set_acl(self, datastore: str, document_id: str, acl: DocumentAcl) -> Json:
        wire = ClientAcl.model_validate(acl.to_json())
        with remote_errors():
            return self._client.set_acl(datastore, document_id, wire).model_dump(mode="json")


def _role(role: Role) -> ClientRole:
    return role.value


def _kind(kind: str) -> ClientKind:
    if kind not in ("user", "service_account"):
        raise InvalidRequestError(f"unknown kind {kind!r}: user or service_account")
    return cast(ClientKind, kind)
