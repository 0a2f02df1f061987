"""Tables of sign-in: browser sessions, sign-ins waiting for the identity provider's answer, SCIM tokens.

Only hashes of the secrets that browsers and provisioning clients hold are stored (session cookies, SCIM
bearer tokens): a copy of the database signs nobody in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from groundwork.platform.db.models import Base, utcnow


class WebSession(Base):
    """A signed-in browser. The cookie holds a random secret; the row holds its SHA-256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    claimed_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Groups the ID token named (those that exist in the tenant count, on every request)."""
    csrf_token: Mapped[str] = mapped_column(String(64))
    """Every state-changing request made with the cookie must send it in `X-CSRF-Token`."""
    id_token: Mapped[str | None] = mapped_column(Text, default=None)
    """The ID token of the sign-in: the `id_token_hint` of RP-initiated logout."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    """The absolute end of the session."""


class PendingSignIn(Base):
    """A sign-in sent to the identity provider: used once, by the browser that started it, within minutes."""

    __tablename__ = "pending_sign_ins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the random value in the browser's sign-in cookie (binds the answer to that browser)."""
    provider: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    next_path: Mapped[str] = mapped_column(String(2000), default="/")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ScimToken(Base):
    """The bearer token a tenant's identity provider provisions users and groups with (`/scim/v2`)."""

    __tablename__ = "scim_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
