"""Identity administration models (users, groups, API keys, tenants, the audit log) and the gs:// sync report;
re-exported by `groundwork.client.models`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from groundwork.client.wire import Model, Request


class UserIn(Request):
    name: str
    role: Literal["reader", "editor", "admin"] = "reader"
    email: str | None = None
    display_name: str = ""
    kind: Literal["user", "service_account"] = "user"
    groups: list[str] = Field(default_factory=list)


class UserPatch(Request):
    role: Literal["reader", "editor", "admin"] | None = None
    disabled: bool | None = None
    email: str | None = None
    display_name: str | None = None


class User(Model):
    id: str
    name: str
    email: str | None = None
    display_name: str = ""
    kind: str
    role: str
    disabled: bool
    groups: list[str]
    created_at: datetime


class GroupIn(Request):
    name: str
    description: str = ""
    members: list[str] = Field(default_factory=list)


class Group(Model):
    id: str
    name: str
    description: str
    members: list[str]


class MembersIn(Request):
    users: list[str]


class ApiKeyIn(Request):
    user: str
    role: Literal["reader", "editor", "admin"] | None = None
    name: str = ""
    expires_in_days: float | None = None


class ApiKey(Model):
    id: str
    user: str
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class IssuedKey(ApiKey):
    token: str


class TenantIn(Request):
    id: str
    name: str = ""
    admin_user: str = "admin"


class Tenant(Model):
    id: str
    name: str
    created_at: datetime


class TenantCreated(Model):
    tenant: Tenant
    admin_key: IssuedKey


class SyncIn(Request):
    source: str
    include: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    delete: bool = True


class RejectedFile(Model):
    source_uri: str
    reason: str


class SyncReport(Model):
    source: str
    listed: int
    selected: int
    unchanged: int
    submitted: int
    deleted: int
    rejected: list[RejectedFile]
    job_ids: list[str]


class AuditDocument(Model):
    id: str
    title: str | None = None
    restricted: bool = False


class AuditEntry(Model):
    id: int
    at: datetime
    actor: str
    key_id: str | None = None
    action: str
    request_id: str
    query: str | None = None
    datastore_ids: list[str] = Field(default_factory=list)
    shown: list[AuditDocument] = Field(default_factory=list)
    cited: list[AuditDocument] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    query_withheld: bool = False
