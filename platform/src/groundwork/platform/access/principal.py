"""The principal: who a request acts for, resolved once per request and passed to every service call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from groundwork.platform.db.models import Role
from groundwork.platform.errors import PermissionDeniedError

_RANK = {Role.READER: 0, Role.EDITOR: 1, Role.ADMIN: 2}

AuthMethod = Literal["api_key", "jwt", "session", "operator", "anonymous", "integration", "audience", "tenant_public"]


def role_at_least(role: Role | str, minimum: Role) -> bool:
    return _RANK[Role(role)] >= _RANK[minimum]


@dataclass(frozen=True)
class Principal:
    """A user or service account of one tenant, with the groups it belongs to (only groups that exist in the
    tenant: a claimed group the tenant does not know grants nothing)."""

    tenant_id: str
    name: str
    """What document ACLs name (`users: [...]`); for audit and conversation ownership too."""
    role: Role
    groups: frozenset[str] = field(default_factory=frozenset)
    key_id: str | None = None
    """The API key used (rate limits and audit), or the token's subject for identity tokens."""
    method: AuthMethod = "api_key"
    reads_everything: bool = False
    """Only for `operator` principals: CLI commands and evaluation that open the data directory themselves
    (whoever can read the data directory can read every blob in it anyway). Never set for a request."""
    audience: tuple[Principal, ...] = ()
    """When set, this principal stands for a group of people reading together (a Slack channel): it may read
    only what EVERY one of them may read. Its own name and groups then grant nothing."""

    @classmethod
    def operator(cls, tenant_id: str) -> Principal:
        """The principal of local operator tools (the CLI without `--url`, evaluation, workers)."""
        return cls(tenant_id=tenant_id, name="operator", role=Role.ADMIN, method="operator", reads_everything=True)

    @classmethod
    def shared_audience(cls, tenant_id: str, name: str, members: Sequence[Principal]) -> Principal:
        """A reader that sees only the documents every one of `members` may read (none, if `members` is empty
        or spans tenants)."""
        if not members or any(m.tenant_id != tenant_id or m.reads_everything for m in members):
            return cls.tenant_public(tenant_id, name)
        return cls(tenant_id=tenant_id, name=name, role=Role.READER, method="audience", audience=tuple(members))

    @classmethod
    def tenant_public(cls, tenant_id: str, name: str) -> Principal:
        """A reader of the tenant's tenant-wide documents only (for an audience that cannot be resolved)."""
        return cls(tenant_id=tenant_id, name=name, role=Role.READER, method="tenant_public")

    @property
    def rate_key(self) -> str:
        """What rate limits count requests against."""
        return f"{self.tenant_id}:{self.key_id or self.name}"

    def require(self, minimum: Role, action: str) -> None:
        """Raise `PermissionDeniedError` unless this principal's role is at least `minimum`."""
        if not role_at_least(self.role, minimum):
            raise PermissionDeniedError(
                f"{action} needs the {minimum.value} role; this principal is a {self.role.value}"
            )
