"""Tenants, users, service accounts, groups and API keys: management (tenant admins) and resolution of a
presented key or verified token into a `Principal`.

Every management call takes the acting principal and works only inside its tenant; an id of another tenant's
object is "not found", never "forbidden", so ids reveal nothing across tenants. Resolution reads the database
on every request: a revoked key, a disabled user or a removed group membership takes effect on the next request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groundwork.platform.access.acl import check_name
from groundwork.platform.access.keys import new_key, parse_key, secret_matches
from groundwork.platform.access.principal import Principal, role_at_least
from groundwork.platform.db.models import ApiKey, Group, GroupMember, Role, Tenant, User, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)

logger = logging.getLogger(__name__)

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_LAST_USED_EVERY = timedelta(minutes=1)
USER_KINDS = ("user", "service_account")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class IssuedKey:
    """A new API key. `token` is shown once and never stored."""

    key: ApiKey
    token: str
    user_name: str


class IdentityService:
    def __init__(self, database: Database, *, operator_tenant: str) -> None:
        self._db = database
        self.operator_tenant = operator_tenant
        """Admins of this tenant may also create tenants (nothing else across tenants)."""

    # -- tenants ----------------------------------------------------------------------------------------

    def ensure_tenant(self, tenant_id: str) -> None:
        with self._db.session() as session:
            if session.get(Tenant, tenant_id) is None:
                session.add(Tenant(id=tenant_id, name=tenant_id))

    def create_tenant(self, actor: Principal, tenant_id: str, name: str = "") -> Tenant:
        if actor.tenant_id != self.operator_tenant:
            raise PermissionDeniedError("only admins of the operator tenant can create tenants")
        actor.require(Role.ADMIN, "creating a tenant")
        if not _TENANT_ID.match(tenant_id):
            raise InvalidRequestError("tenant id must be 1-63 lowercase letters, digits or '-', starting with one")
        try:
            with self._db.session() as session:
                tenant = Tenant(id=tenant_id, name=name or tenant_id)
                session.add(tenant)
                session.flush()
                return tenant
        except IntegrityError as exc:
            raise ConflictError(f"tenant {tenant_id!r} already exists") from exc

    def create_tenant_with_admin(
        self, actor: Principal, tenant_id: str, *, name: str = "", admin_user: str = "admin"
    ) -> tuple[Tenant, IssuedKey]:
        """A new tenant, its first admin user and that admin's key (shown once)."""
        tenant = self.create_tenant(actor, tenant_id, name)
        self.create_user(actor, admin_user, role=Role.ADMIN, tenant_id=tenant.id)
        return tenant, self.create_key(actor, admin_user, name="tenant bootstrap", tenant_id=tenant.id)

    def list_tenants(self, actor: Principal) -> list[Tenant]:
        actor.require(Role.ADMIN, "listing tenants")
        with self._db.session() as session:
            if actor.tenant_id != self.operator_tenant:
                return [session.get_one(Tenant, actor.tenant_id)]
            return list(session.scalars(select(Tenant).order_by(Tenant.id)))

    # -- users and service accounts ---------------------------------------------------------------------

    def create_user(
        self,
        actor: Principal,
        name: str,
        *,
        role: Role = Role.READER,
        email: str | None = None,
        display_name: str = "",
        kind: str = "user",
        groups: Sequence[str] = (),
        tenant_id: str | None = None,
    ) -> User:
        """A user (or service account) of the actor's tenant (`tenant_id`: the operator tenant's admins may name
        another tenant, to create its first admin)."""
        actor.require(Role.ADMIN, "creating users")
        tenant = tenant_id or actor.tenant_id
        if tenant != actor.tenant_id and actor.tenant_id != self.operator_tenant:
            raise NotFoundError(f"tenant {tenant!r} not found")
        check_name(name, "user name")
        if kind not in USER_KINDS:
            raise InvalidRequestError(f"kind must be one of {', '.join(USER_KINDS)}")
        try:
            with self._db.session() as session:
                if session.get(Tenant, tenant) is None:
                    raise NotFoundError(f"tenant {tenant!r} not found")
                user = User(
                    tenant_id=tenant, name=name, email=email, display_name=display_name, kind=kind, role=Role(role)
                )
                session.add(user)
                session.flush()
                self._join(session, tenant, user.id, groups)
                return user
        except IntegrityError as exc:
            raise ConflictError(f"a user named {name!r} already exists") from exc

    def list_users(self, actor: Principal) -> list[User]:
        actor.require(Role.ADMIN, "listing users")
        with self._db.session() as session:
            return list(session.scalars(select(User).where(User.tenant_id == actor.tenant_id).order_by(User.name)))

    def get_user(self, actor: Principal, reference: str) -> User:
        actor.require(Role.ADMIN, "reading users")
        with self._db.session() as session:
            return self._user(session, actor.tenant_id, reference)

    def update_user(
        self,
        actor: Principal,
        reference: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        email: str | None = None,
        display_name: str | None = None,
    ) -> User:
        actor.require(Role.ADMIN, "changing users")
        with self._db.session() as session:
            user = self._user(session, actor.tenant_id, reference)
            if role is not None:
                user.role = Role(role)
                # A key never carries more than its user's role.
                for key in session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)):
                    if not role_at_least(role, Role(key.role)):
                        key.role = Role(role)
            if disabled is not None:
                user.disabled = disabled
            if email is not None:
                user.email = email
            if display_name is not None:
                user.display_name = display_name
            return user

    def delete_user(self, actor: Principal, reference: str) -> None:
        """Delete a user with its keys and memberships (documents naming it in their ACL keep the name)."""
        actor.require(Role.ADMIN, "deleting users")
        with self._db.session() as session:
            user = self._user(session, actor.tenant_id, reference)
            session.execute(delete(ApiKey).where(ApiKey.user_id == user.id))
            session.execute(delete(GroupMember).where(GroupMember.user_id == user.id))
            session.delete(user)

    def user_groups(self, actor: Principal, reference: str) -> list[str]:
        actor.require(Role.ADMIN, "reading users")
        with self._db.session() as session:
            user = self._user(session, actor.tenant_id, reference)
            return sorted(self._groups_of(session, user.id))

    @staticmethod
    def _user(session: Session, tenant_id: str, reference: str) -> User:
        user = session.scalar(
            select(User).where(User.tenant_id == tenant_id, (User.id == reference) | (User.name == reference))
        )
        if user is None:
            raise NotFoundError(f"user {reference!r} not found")
        return user

    @staticmethod
    def _groups_of(session: Session, user_id: str) -> set[str]:
        return set(
            session.scalars(
                select(Group.name)
                .join(GroupMember, GroupMember.group_id == Group.id)
                .where(GroupMember.user_id == user_id)
            )
        )

    # -- groups -----------------------------------------------------------------------------------------

    def create_group(self, actor: Principal, name: str, description: str = "") -> Group:
        actor.require(Role.ADMIN, "creating groups")
        check_name(name, "group name")
        try:
            with self._db.session() as session:
                group = Group(tenant_id=actor.tenant_id, name=name, description=description)
                session.add(group)
                session.flush()
                return group
        except IntegrityError as exc:
            raise ConflictError(f"a group named {name!r} already exists") from exc

    def list_groups(self, actor: Principal) -> list[tuple[Group, list[str]]]:
        """Groups with the names of their members."""
        actor.require(Role.ADMIN, "listing groups")
        with self._db.session() as session:
            groups = list(session.scalars(select(Group).where(Group.tenant_id == actor.tenant_id).order_by(Group.name)))
            members: dict[str, list[str]] = {g.id: [] for g in groups}
            for group_id, user_name in session.execute(
                select(GroupMember.group_id, User.name)
                .join(User, User.id == GroupMember.user_id)
                .where(User.tenant_id == actor.tenant_id)
                .order_by(User.name)
            ):
                members.setdefault(group_id, []).append(user_name)
            return [(g, members[g.id]) for g in groups]

    def delete_group(self, actor: Principal, name: str) -> None:
        actor.require(Role.ADMIN, "deleting groups")
        with self._db.session() as session:
            group = self._group(session, actor.tenant_id, name)
            session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
            session.delete(group)

    def add_members(self, actor: Principal, group: str, users: Iterable[str]) -> None:
        actor.require(Role.ADMIN, "changing group members")
        with self._db.session() as session:
            found = self._group(session, actor.tenant_id, group)
            for reference in users:
                user = self._user(session, actor.tenant_id, reference)
                if session.get(GroupMember, (found.id, user.id)) is None:
                    session.add(GroupMember(group_id=found.id, user_id=user.id))

    def remove_members(self, actor: Principal, group: str, users: Iterable[str]) -> None:
        actor.require(Role.ADMIN, "changing group members")
        with self._db.session() as session:
            found = self._group(session, actor.tenant_id, group)
            for reference in users:
                user = self._user(session, actor.tenant_id, reference)
                session.execute(
                    delete(GroupMember).where(GroupMember.group_id == found.id, GroupMember.user_id == user.id)
                )

    def _join(self, session: Session, tenant_id: str, user_id: str, groups: Sequence[str]) -> None:
        for name in groups:
            group = self._group(session, tenant_id, name)
            session.add(GroupMember(group_id=group.id, user_id=user_id))

    @staticmethod
    def _group(session: Session, tenant_id: str, name: str) -> Group:
        group = session.scalar(
            select(Group).where(Group.tenant_id == tenant_id, (Group.name == name) | (Group.id == name))
        )
        if group is None:
            raise NotFoundError(f"group {name!r} not found")
        return group

    # -- API keys ---------------------------------------------------------------------------------------

    def create_key(
        self,
        actor: Principal,
        user: str,
        *,
        role: Role | None = None,
        name: str = "",
        expires_at: datetime | None = None,
        tenant_id: str | None = None,
    ) -> IssuedKey:
        """A key acting as `user`, with `role` (default: the user's; never more than the user's)."""
        actor.require(Role.ADMIN, "creating API keys")
        tenant = tenant_id or actor.tenant_id
        if tenant != actor.tenant_id and actor.tenant_id != self.operator_tenant:
            raise NotFoundError(f"tenant {tenant!r} not found")
        with self._db.session() as session:
            owner = self._user(session, tenant, user)
            key_role = Role(role or owner.role)
            if not role_at_least(owner.role, key_role):
                raise InvalidRequestError(f"user {owner.name!r} is a {owner.role}; its keys cannot be {key_role.value}")
            if expires_at is not None and _aware(expires_at) <= utcnow():
                raise InvalidRequestError("expires_at is in the past")
            key_id, token, digest = new_key()
            key = ApiKey(
                id=key_id,
                tenant_id=tenant,
                user_id=owner.id,
                name=name,
                secret_sha256=digest,
                role=key_role,
                expires_at=expires_at,
            )
            session.add(key)
            session.flush()
            return IssuedKey(key=key, token=token, user_name=owner.name)

    def list_keys(self, actor: Principal) -> list[tuple[ApiKey, str]]:
        """The tenant's keys with their users' names (never a secret)."""
        actor.require(Role.ADMIN, "listing API keys")
        with self._db.session() as session:
            rows = session.execute(
                select(ApiKey, User.name)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.tenant_id == actor.tenant_id)
                .order_by(ApiKey.created_at)
            ).all()
            return [(row[0], row[1]) for row in rows]

    def revoke_key(self, actor: Principal, key_id: str) -> ApiKey:
        actor.require(Role.ADMIN, "revoking API keys")
        with self._db.session() as session:
            key = session.get(ApiKey, key_id)
            if key is None or key.tenant_id != actor.tenant_id:
                raise NotFoundError(f"API key {key_id!r} not found")
            if key.revoked_at is None:
                key.revoked_at = utcnow()
            return key

    def has_admin_key(self, tenant_id: str) -> bool:
        with self._db.session() as session:
            return (
                session.scalar(
                    select(ApiKey.id)
                    .join(User, User.id == ApiKey.user_id)
                    .where(
                        ApiKey.tenant_id == tenant_id,
                        ApiKey.role == Role.ADMIN,
                        ApiKey.revoked_at.is_(None),
                        User.disabled.is_(False),
                    )
                    .limit(1)
                )
                is not None
            )

    # -- resolution -------------------------------------------------------------------------------------

    def authenticate_key(self, token: str) -> Principal:
        """The principal of an API key, or `AuthenticationError` (unknown, revoked, expired, disabled user)."""
        parsed = parse_key(token)
        if parsed is None:
            raise AuthenticationError("malformed API key")
        with self._db.session() as session:
            key = session.get(ApiKey, parsed.key_id)
            if key is None or not secret_matches(parsed.secret, key.secret_sha256):
                raise AuthenticationError("unknown API key")
            if key.revoked_at is not None:
                raise AuthenticationError("this API key was revoked")
            now = utcnow()
            if key.expires_at is not None and _aware(key.expires_at) <= now:
                raise AuthenticationError("this API key has expired")
            user = session.get(User, key.user_id)
            if user is None or user.disabled:
                raise AuthenticationError("the user of this API key is disabled")
            if key.last_used_at is None or now - _aware(key.last_used_at) > _LAST_USED_EVERY:
                key.last_used_at = now
            groups = self._groups_of(session, user.id)
            return Principal(
                tenant_id=key.tenant_id,
                name=user.name,
                role=Role(key.role),
                groups=frozenset(groups),
                key_id=key.id,
                method="api_key",
            )

    def principal_from_claims(
        self, *, tenant_id: str, name: str, role: Role, claimed_groups: Iterable[str], subject: str
    ) -> Principal:
        """The principal of a verified identity token. The tenant must exist; claimed groups count only if the
        tenant has a group of that name; a registered user of that name adds its memberships, and a disabled
        one is refused."""
        check_name(name, "token user")
        with self._db.session() as session:
            if session.get(Tenant, tenant_id) is None:
                raise AuthenticationError(f"token names unknown tenant {tenant_id!r}")
            claimed = {g for g in claimed_groups if isinstance(g, str) and g}
            known = set(
                session.scalars(select(Group.name).where(Group.tenant_id == tenant_id, Group.name.in_(sorted(claimed))))
            )
            user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.name == name))
            if user is not None:
                if user.disabled:
                    raise AuthenticationError("this user is disabled")
                known |= self._groups_of(session, user.id)
        return Principal(
            tenant_id=tenant_id, name=name, role=role, groups=frozenset(known), key_id=subject, method="jwt"
        )

    def principal_for_user(
        self, tenant_id: str, *, name: str | None = None, email: str | None = None
    ) -> Principal | None:
        """The reader principal of a registered, enabled user found by name or email (for integrations such as
        Slack that learn who someone is from elsewhere); None if there is no such user."""
        if not name and not email:
            return None
        with self._db.session() as session:
            condition = User.name == name if name else User.email == email
            user = session.scalar(select(User).where(User.tenant_id == tenant_id, condition))
            if user is None or user.disabled:
                return None
            groups = self._groups_of(session, user.id)
            return Principal(
                tenant_id=tenant_id, name=user.name, role=Role.READER, groups=frozenset(groups), method="integration"
            )

    def bootstrap_admin(self, tenant_id: str) -> IssuedKey | None:
        """First start with access control on: create the tenant's `admin` user and an admin key, unless the
        tenant already has a working admin key. Returns the new key (its token is shown once)."""
        self.ensure_tenant(tenant_id)
        if self.has_admin_key(tenant_id):
            return None
        operator = Principal.operator(tenant_id)
        try:
            self.create_user(operator, "admin", role=Role.ADMIN, display_name="Administrator")
        except ConflictError:
            self.update_user(operator, "admin", role=Role.ADMIN, disabled=False)
        issued = self.create_key(operator, "admin", name="bootstrap")
        logger.warning("created the first admin API key of tenant %s (key id %s)", tenant_id, issued.key.id)
        return issued
