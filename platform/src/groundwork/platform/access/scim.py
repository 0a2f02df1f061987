"""SCIM 2.0 provisioning (RFC 7643/7644) of a tenant's users and groups, on the `scim2-models` resources.

A tenant's identity provider authenticates with the tenant's SCIM bearer token (`gwscim_<id>_<secret>`; only
its SHA-256 is stored). SCIM users are the platform's users (`userName` is the name ACLs use, `active: false`
disables), SCIM groups its groups (`displayName`), and group members its memberships, so a change counts on
the next request of the user it concerns: principals are resolved from these rows on every request, and the
search cache is keyed by the groups resolved. Deactivating or deleting a user ends its browser sessions and
revokes its API keys at once. Attributes the platform has no column for are kept as sent and returned.
Filters are evaluated with `scim2-models` over the tenant's resources.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    Email,
    Group,
    GroupMember,
    GroupMembership,
    Meta,
    ScimFilter,
    User,
)
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from groundwork.platform.access.acl import check_name
from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.principal import Principal
from groundwork.platform.access.sessions import SessionStore
from groundwork.platform.db import models
from groundwork.platform.db.identity_models import ScimToken, WebSession
from groundwork.platform.db.models import ApiKey, Role, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import AuthenticationError, ConflictError, InvalidRequestError, NotFoundError

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "gwscim"
MAX_PAGE = 200
_NOT_KEPT = {"id", "meta", "schemas", "groups", "password", "userName", "displayName"}


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedScimToken:
    id: str
    token: str
    """Shown once."""


@dataclass(frozen=True)
class Page:
    total: int
    start_index: int
    resources: list[Any]


def _profile(resource: User[Any] | Group) -> dict[str, Any]:
    dumped = resource.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    return {k: v for k, v in dumped.items() if k not in _NOT_KEPT}


class ScimService:
    def __init__(self, database: Database, sessions: SessionStore, audit: AuditLog) -> None:
        self._db = database
        self._sessions = sessions
        self._audit = audit

    # -- tokens -------------------------------------------------------------------------------------------

    def create_token(self, actor: Principal) -> IssuedScimToken:
        actor.require(Role.ADMIN, "creating a SCIM token")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        with self._db.session() as session:
            session.add(ScimToken(id=token_id, tenant_id=actor.tenant_id, secret_sha256=_sha256(secret)))
        return IssuedScimToken(id=token_id, token=f"{TOKEN_PREFIX}_{token_id}_{secret}")

    def list_tokens(self, actor: Principal) -> list[ScimToken]:
        actor.require(Role.ADMIN, "listing SCIM tokens")
        with self._db.session() as session:
            query = select(ScimToken).where(ScimToken.tenant_id == actor.tenant_id).order_by(ScimToken.created_at)
            return list(session.scalars(query))

    def revoke_token(self, actor: Principal, token_id: str) -> None:
        actor.require(Role.ADMIN, "revoking SCIM tokens")
        with self._db.session() as session:
            token = session.get(ScimToken, token_id)
            if token is None or token.tenant_id != actor.tenant_id:
                raise NotFoundError(f"SCIM token {token_id!r} not found")
            token.revoked_at = token.revoked_at or utcnow()

    def authenticate(self, authorization: str | None) -> Principal:
        """The SCIM client of a tenant, from `Authorization: Bearer gwscim_...`."""
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        parts = credentials.strip().split("_", 2)
        if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise AuthenticationError("SCIM requests need 'Authorization: Bearer <the tenant's SCIM token>'")
        with self._db.session() as session:
            token = session.get(ScimToken, parts[1])
            if token is None or not hmac.compare_digest(_sha256(parts[2]), token.secret_sha256):
                raise AuthenticationError("unknown SCIM token")
            if token.revoked_at is not None:
                raise AuthenticationError("this SCIM token was revoked")
            return Principal(
                tenant_id=token.tenant_id, name="scim", role=Role.ADMIN, key_id=token.id, method="integration"
            )

    def _record(self, client: Principal, action: str, **details: object) -> None:
        self._audit.record(client, f"scim.{action}", details=dict(details))

    # -- users --------------------------------------------------------------------------------------------

    @staticmethod
    def _find_user(session: Session, tenant_id: str, user_id: str) -> models.User:
        user = session.get(models.User, user_id)
        if user is None or user.tenant_id != tenant_id:
            raise NotFoundError(f"User {user_id} not found")
        return user

    @staticmethod
    def user_resource(session: Session, user: models.User) -> User[Any]:
        profile = user.scim_profile or {}
        resource: User[Any] = User.model_validate({**profile, "userName": user.name}, scim_ctx=Context.DEFAULT)
        resource.id = user.id
        # `active` as the provisioning client set it (absent if it removed it); a disabled user is never active.
        resource.active = (
            None if user.source == "scim" and "active" not in profile and not user.disabled else not user.disabled
        )
        resource.display_name = user.display_name or None
        resource.external_id = user.external_id
        if user.email and not resource.emails:
            try:
                resource.emails = [Email(value=user.email, primary=True)]
            except ValidationError:  # an address SCIM would refuse (e.g. a reserved domain) is left out
                logger.info("user %s: email %r is not a SCIM email address", user.id, user.email)
        memberships = session.execute(
            select(models.Group.id, models.Group.name)
            .join(models.GroupMember, models.GroupMember.group_id == models.Group.id)
            .where(models.GroupMember.user_id == user.id)
            .order_by(models.Group.name)
        ).all()
        resource.groups = [GroupMembership(value=g, display=n, type="direct") for g, n in memberships] or None
        resource.meta = Meta(
            resource_type="User", created=user.created_at, last_modified=user.created_at, location=f"/Users/{user.id}"
        )
        return resource

    @staticmethod
    def _apply_user(user: models.User, resource: User[Any]) -> bool:
        """Write a SCIM user onto a platform user; True when it was just deactivated."""
        user.name = check_name(resource.user_name, "userName")
        was_active = not user.disabled
        user.disabled = resource.active is False
        user.display_name = (resource.display_name or (resource.name.formatted if resource.name else None) or "")[:300]
        emails = resource.emails or []
        primary = next((e for e in emails if e.primary), emails[0] if emails else None)
        user.email = str(primary.value) if primary is not None and primary.value else None
        user.external_id = resource.external_id
        user.scim_profile = _profile(resource)
        return was_active and user.disabled

    def _deprovision(self, session: Session, user: models.User) -> None:
        """End the user's sessions and revoke its API keys, now."""
        session.execute(
            update(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))

    def _name_taken(self, session: Session, tenant_id: str, name: str | None, user_id: str | None) -> None:
        found = session.scalar(
            select(models.User.id).where(models.User.tenant_id == tenant_id, models.User.name == name)
        )
        if found is not None and found != user_id:
            raise ConflictError(f"a user named {name!r} already exists")

    def list_users(self, client: Principal, filter_: str | None, start: int, count: int) -> Page:
        with self._db.session() as session:
            users = session.scalars(
                select(models.User).where(models.User.tenant_id == client.tenant_id).order_by(models.User.created_at)
            )
            resources = [self.user_resource(session, u) for u in users]
        return _page(resources, ScimFilter[User[Any]], filter_, start, count)

    def get_user(self, client: Principal, user_id: str) -> User[Any]:
        with self._db.session() as session:
            return self.user_resource(session, self._find_user(session, client.tenant_id, user_id))

    def create_user(self, client: Principal, resource: User[Any]) -> User[Any]:
        with self._db.session() as session:
            self._name_taken(session, client.tenant_id, resource.user_name, None)
            user = models.User(tenant_id=client.tenant_id, role=Role.READER, source="scim", kind="user")
            self._apply_user(user, resource)
            session.add(user)
            session.flush()
            created = self.user_resource(session, user)
        self._record(client, "user.create", user=created.user_name, id=created.id)
        return created

    def replace_user(self, client: Principal, user_id: str, resource: User[Any]) -> User[Any]:
        return self._change_user(client, user_id, "user.replace", lambda _current: resource)

    def patch_user(self, client: Principal, user_id: str, patch: Callable[[User[Any]], object]) -> User[Any]:
        def patched(current: User[Any]) -> User[Any]:
            patch(current)
            return current

        return self._change_user(client, user_id, "user.patch", patched)

    def _change_user(
        self, client: Principal, user_id: str, action: str, change: Callable[[User[Any]], User[Any]]
    ) -> User[Any]:
        with self._db.session() as session:
            user = self._find_user(session, client.tenant_id, user_id)
            resource = change(self.user_resource(session, user))
            self._name_taken(session, client.tenant_id, resource.user_name, user.id)
            deactivated = self._apply_user(user, resource)
            if deactivated:
                self._deprovision(session, user)
            session.flush()
            changed = self.user_resource(session, user)
        self._record(client, action, user=changed.user_name, id=user_id, active=changed.active)
        return changed

    def delete_user(self, client: Principal, user_id: str) -> None:
        with self._db.session() as session:
            user = self._find_user(session, client.tenant_id, user_id)
            name = user.name
            self._deprovision(session, user)
            session.execute(delete(ApiKey).where(ApiKey.user_id == user.id))
            session.execute(delete(models.GroupMember).where(models.GroupMember.user_id == user.id))
            session.delete(user)
        self._record(client, "user.delete", user=name, id=user_id)

    # -- groups -------------------------------------------------------------------------------------------

    @staticmethod
    def _find_group(session: Session, tenant_id: str, group_id: str) -> models.Group:
        group = session.get(models.Group, group_id)
        if group is None or group.tenant_id != tenant_id:
            raise NotFoundError(f"Group {group_id} not found")
        return group

    @staticmethod
    def group_resource(session: Session, group: models.Group) -> Group:
        profile = {k: v for k, v in (group.scim_profile or {}).items() if k != "members"}
        sent = {m.get("value"): m for m in (group.scim_profile or {}).get("members", []) if isinstance(m, dict)}
        resource = Group.model_validate({**profile, "displayName": group.name}, scim_ctx=Context.DEFAULT)
        resource.id = group.id
        resource.external_id = group.external_id
        members = session.execute(
            select(models.User.id, models.User.name)
            .join(models.GroupMember, models.GroupMember.user_id == models.User.id)
            .where(models.GroupMember.group_id == group.id)
            .order_by(models.User.name)
        ).all()
        # Members as the client sent them (display, $ref), for those that are members now.
        resource.members = [
            GroupMember.model_validate(sent[u]) if u in sent else GroupMember(value=u, display=n, type="User")
            for u, n in members
        ] or None
        resource.meta = Meta(
            resource_type="Group",
            created=group.created_at,
            last_modified=group.created_at,
            location=f"/Groups/{group.id}",
        )
        return resource

    def _apply_group(self, session: Session, group: models.Group, resource: Group) -> None:
        name = check_name(resource.display_name, "displayName")
        if len(name) > 200:
            raise InvalidRequestError("displayName must be at most 200 characters")
        taken = session.scalar(
            select(models.Group.id).where(models.Group.tenant_id == group.tenant_id, models.Group.name == name)
        )
        if taken is not None and taken != group.id:
            raise ConflictError(f"a group named {name!r} already exists")
        group.name, group.external_id, group.scim_profile = name, resource.external_id, _profile(resource)
        wanted = {str(m.value) for m in resource.members or [] if m.value}
        known = set(
            session.scalars(
                select(models.User.id).where(models.User.tenant_id == group.tenant_id, models.User.id.in_(wanted))
            )
        )
        if wanted - known:
            raise InvalidRequestError(f"members name unknown users: {', '.join(sorted(wanted - known))}")
        session.flush()
        current = set(
            session.scalars(select(models.GroupMember.user_id).where(models.GroupMember.group_id == group.id))
        )
        if current - wanted:
            session.execute(
                delete(models.GroupMember).where(
                    models.GroupMember.group_id == group.id, models.GroupMember.user_id.in_(current - wanted)
                )
            )
        session.add_all(models.GroupMember(group_id=group.id, user_id=u) for u in sorted(wanted - current))

    def list_groups(self, client: Principal, filter_: str | None, start: int, count: int) -> Page:
        with self._db.session() as session:
            groups = session.scalars(
                select(models.Group).where(models.Group.tenant_id == client.tenant_id).order_by(models.Group.created_at)
            )
            resources = [self.group_resource(session, g) for g in groups]
        return _page(resources, ScimFilter[Group], filter_, start, count)

    def get_group(self, client: Principal, group_id: str) -> Group:
        with self._db.session() as session:
            return self.group_resource(session, self._find_group(session, client.tenant_id, group_id))

    def create_group(self, client: Principal, resource: Group) -> Group:
        with self._db.session() as session:
            group = models.Group(tenant_id=client.tenant_id, name="", source="scim")
            session.add(group)
            session.flush()
            self._apply_group(session, group, resource)
            session.flush()
            created = self.group_resource(session, group)
        self._record(client, "group.create", group=created.display_name, id=created.id)
        return created

    def change_group(self, client: Principal, group_id: str, action: str, change: Callable[[Group], Group]) -> Group:
        with self._db.session() as session:
            group = self._find_group(session, client.tenant_id, group_id)
            before = {m.value for m in self.group_resource(session, group).members or []}
            resource = change(self.group_resource(session, group))
            self._apply_group(session, group, resource)
            session.flush()
            changed = self.group_resource(session, group)
        after = {m.value for m in changed.members or []}
        self._record(
            client,
            action,
            group=changed.display_name,
            id=group_id,
            added=sorted(str(v) for v in after - before),
            removed=sorted(str(v) for v in before - after),
        )
        return changed

    def delete_group(self, client: Principal, group_id: str) -> None:
        with self._db.session() as session:
            group = self._find_group(session, client.tenant_id, group_id)
            name = group.name
            session.execute(delete(models.GroupMember).where(models.GroupMember.group_id == group.id))
            session.delete(group)
        self._record(client, "group.delete", group=name, id=group_id)


def _page(resources: list[Any], filter_type: Any, filter_: str | None, start: int, count: int) -> Page:
    if filter_:
        try:
            parsed = filter_type(filter_)
        except ValueError as exc:
            raise InvalidRequestError(f"invalid filter: {exc}") from exc
        resources = [r for r in resources if parsed.match(r)]
    start = max(start, 1)
    count = min(max(count, 0), MAX_PAGE)
    return Page(total=len(resources), start_index=start, resources=resources[start - 1 : start - 1 + count])
