"""Browser sessions, kept server-side in the metadata store.

The browser holds a random 256-bit secret in an HttpOnly cookie; the store holds its SHA-256, the session's
user, the groups the ID token claimed, a CSRF token, and when it started, was last used and must end. A
session ends when idle for `sessions.idle_minutes`, `sessions.absolute_hours` after sign-in, at sign-out, and
at once when its user is disabled or deleted. Every sign-in makes a new session (the id never survives a
sign-in: no fixation). Each request re-reads the user and its memberships, so a group change counts on the
next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from groundwork.platform.access.principal import Principal
from groundwork.platform.config import SessionConfig
from groundwork.platform.db.identity_models import WebSession
from groundwork.platform.db.models import Group, GroupMember, Role, User, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import AuthenticationError, PermissionDeniedError

SESSION_COOKIE = "gw_session"
SIGN_IN_COOKIE = "gw_sign_in"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOUCH_EVERY = timedelta(seconds=30)


class CsrfError(PermissionDeniedError):
    """A state-changing request made with the session cookie lacks the session's CSRF token."""

    code = "csrf_failed"


class SessionEndedError(AuthenticationError):
    code = "session_ended"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class IssuedSession:
    token: str
    """The cookie's value (shown to the browser only)."""
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionView:
    """A live session: its principal and what the UI may be told about it."""

    principal: Principal
    provider: str
    csrf_token: str
    expires_at: datetime
    idle_expires_at: datetime
    claimed_groups: tuple[str, ...]


class SessionStore:
    def __init__(self, database: Database, config: SessionConfig) -> None:
        self._db = database
        self._config = config

    @property
    def max_age_seconds(self) -> int:
        return self._config.absolute_hours * 3600

    def create(
        self,
        *,
        tenant_id: str,
        user_id: str,
        provider: str,
        claimed_groups: list[str],
        id_token: str | None,
        replaces: str | None = None,
    ) -> IssuedSession:
        """A new session (a fresh id, whatever cookie the browser had; that one, if any, ends)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + timedelta(hours=self._config.absolute_hours)
        with self._db.session() as session:
            if replaces:
                session.execute(delete(WebSession).where(WebSession.id_sha256 == digest(replaces)))
            session.add(
                WebSession(
                    id_sha256=digest(token),
                    tenant_id=tenant_id,
                    user_id=user_id,
                    provider=provider,
                    claimed_groups=sorted(set(claimed_groups)),
                    csrf_token=csrf,
                    id_token=id_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
        return IssuedSession(token=token, csrf_token=csrf, expires_at=expires)

    def resolve(self, token: str, *, method: str = "GET", csrf_header: str | None = None) -> SessionView:
        """The live session of a cookie, or `SessionEndedError`; a state-changing `method` needs the CSRF
        token (`CsrfError` otherwise)."""
        now = utcnow()
        idle = timedelta(minutes=self._config.idle_minutes)
        with self._db.session() as session:
            row = session.get(WebSession, digest(token))
            if row is None:
                raise SessionEndedError("no such session: sign in again")
            last_seen = _aware(row.last_seen_at)
            if _aware(row.expires_at) <= now or last_seen + idle <= now:
                session.delete(row)
                raise SessionEndedError("the session has expired: sign in again")
            user = session.get(User, row.user_id)
            if user is None or user.disabled:
                session.delete(row)
                raise SessionEndedError("the user of this session is disabled")
            if method.upper() not in SAFE_METHODS and not (
                csrf_header and hmac.compare_digest(csrf_header.encode(), row.csrf_token.encode())
            ):
                raise CsrfError("this request needs the session's CSRF token in the X-CSRF-Token header")
            if now - last_seen > _TOUCH_EVERY:
                row.last_seen_at = last_seen = now
            groups = set(
                session.scalars(
                    select(Group.name)
                    .join(GroupMember, GroupMember.group_id == Group.id)
                    .where(GroupMember.user_id == user.id)
                )
            )
            claimed = [g for g in row.claimed_groups if isinstance(g, str)]
            if claimed:
                groups |= set(
                    session.scalars(select(Group.name).where(Group.tenant_id == row.tenant_id, Group.name.in_(claimed)))
                )
            principal = Principal(
                tenant_id=row.tenant_id,
                name=user.name,
                role=Role(user.role),
                groups=frozenset(groups),
                method="session",
            )
            return SessionView(
                principal=principal,
                provider=row.provider,
                csrf_token=row.csrf_token,
                expires_at=_aware(row.expires_at),
                idle_expires_at=last_seen + idle,
                claimed_groups=tuple(claimed),
            )

    def end(self, token: str) -> WebSession | None:
        """End the session of a cookie; returns it (for RP-initiated logout), None if there was none."""
        with self._db.session() as session:
            row = session.get(WebSession, digest(token))
            if row is not None:
                session.delete(row)
                session.flush()
                session.expunge(row)
            return row
