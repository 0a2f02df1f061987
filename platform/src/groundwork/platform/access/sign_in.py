"""Signing in to the chat UI with an OIDC provider, and out again.

`start` records a pending sign-in (state, nonce, PKCE verifier, where to go after) bound to a random value in a
cookie of the browser that started it, and returns the provider's authorization URL. `finish` takes the
provider's answer: the state must name a pending sign-in of this provider, started by this browser, minutes
ago, and is used up at once (a replayed answer finds nothing); then the code is exchanged, the ID token
validated, the user found or created, and a new session made. Every refusal is audited with its reason and
counted (`groundwork_access_session_refusals_total{reason}`).
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import delete, select

from groundwork.platform.access.acl import check_name
from groundwork.platform.access.audit import AuditLog
from groundwork.platform.access.oidc import OidcProvider, SignInRefused
from groundwork.platform.access.principal import Principal
from groundwork.platform.access.sessions import CsrfError, IssuedSession, SessionEndedError, SessionStore, digest
from groundwork.platform.config import OidcProviderConfig
from groundwork.platform.db.identity_models import PendingSignIn
from groundwork.platform.db.models import Role, Tenant, User, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError, NotFoundError, PlatformError

logger = logging.getLogger(__name__)

MAX_NEXT_LENGTH = 1000


def safe_next(raw: str | None) -> str:
    """`next=` as a path on this server; anything that could leave it (a scheme, `//host`, `/\\host`, control
    characters) is `InvalidRequestError`."""
    if not raw:
        return "/"
    if (
        len(raw) > MAX_NEXT_LENGTH
        or not raw.startswith("/")
        or raw.startswith(("//", "/\\"))
        or "\\" in raw
        or any(unicodedata.category(ch).startswith("C") or ch.isspace() for ch in raw)
    ):
        raise InvalidRequestError("next must be a path on this server, such as /")
    return raw


@dataclass(frozen=True)
class SignInStart:
    url: str
    """The provider's authorization URL to send the browser to."""
    browser_secret: str
    """For the sign-in cookie; its hash binds the pending sign-in to this browser."""


@dataclass(frozen=True)
class SignedIn:
    session: IssuedSession
    principal: Principal
    next_path: str


class SignInService:
    def __init__(
        self,
        database: Database,
        sessions: SessionStore,
        audit: AuditLog,
        providers: list[OidcProviderConfig],
        *,
        default_tenant: str,
        sign_in_minutes: int,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._db = database
        self.sessions = sessions
        self._audit = audit
        self._default_tenant = default_tenant
        self._window = timedelta(minutes=sign_in_minutes)
        self.providers: dict[str, OidcProvider] = {}
        for config in providers:
            if config.id in self.providers:
                raise InvalidRequestError(f"two OIDC providers have the id {config.id!r}")
            self.providers[config.id] = OidcProvider(config)
        self.refusals = Counter(
            "groundwork_access_session_refusals_total",
            "Sign-ins and cookie requests refused, by reason",
            ["reason"],
            registry=registry,
        )

    def provider(self, provider_id: str) -> OidcProvider:
        found = self.providers.get(provider_id)
        if found is None:
            raise NotFoundError(f"no identity provider {provider_id!r}")
        return found

    def tenant_of(self, provider: OidcProvider) -> str:
        return provider.config.tenant or self._default_tenant

    def refuse(self, reason: str, message: str, *, tenant_id: str, actor: str = "anonymous", **details: Any) -> None:
        """Count and audit a refusal."""
        self.refusals.labels(reason=reason).inc()
        logger.info("refused (%s): %s", reason, message)
        with_reason = {"reason": reason, "message": message[:300], **details}
        self._audit.record(
            Principal(tenant_id=tenant_id, name=actor, role=Role.READER, method="session"),
            "sign_in.failed",
            details=with_reason,
        )

    def start(self, provider_id: str, *, redirect_uri: str, next_path: str | None) -> SignInStart:
        provider = self.provider(provider_id)
        try:
            target = safe_next(next_path)
        except InvalidRequestError as exc:
            self.refuse("unsafe_redirect", str(exc), tenant_id=self.tenant_of(provider), provider=provider_id)
            raise
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier, browser = secrets.token_urlsafe(64), secrets.token_urlsafe(32)
        url = provider.authorization_url(redirect_uri, state=state, nonce=nonce, code_verifier=verifier)
        with self._db.session() as session:
            session.execute(delete(PendingSignIn).where(PendingSignIn.created_at < utcnow() - self._window))
            session.add(
                PendingSignIn(
                    state=state,
                    browser_sha256=digest(browser),
                    provider=provider_id,
                    nonce=nonce,
                    code_verifier=verifier,
                    redirect_uri=redirect_uri,
                    next_path=target,
                )
            )
        return SignInStart(url=url, browser_secret=browser)

    def _take_pending(self, provider_id: str, state: str | None, browser_secret: str | None) -> PendingSignIn:
        """The pending sign-in `state` names, removed (it is good for one answer only)."""
        if not state:
            raise SignInRefused("wrong_state", "the provider's answer has no state")
        with self._db.session() as session:
            pending = session.get(PendingSignIn, state)
            if pending is None or pending.provider != provider_id:
                raise SignInRefused("wrong_state", "no sign-in was started with this state (or it was used)")
            session.delete(pending)
            session.flush()
            session.expunge(pending)
        if not browser_secret or digest(browser_secret) != pending.browser_sha256:
            raise SignInRefused("wrong_browser", "this sign-in was started in another browser")
        created = (
            pending.created_at if pending.created_at.tzinfo else pending.created_at.replace(tzinfo=utcnow().tzinfo)
        )
        if created + self._window < utcnow():
            raise SignInRefused("sign_in_expired", "the sign-in took too long: start again")
        return pending

    def finish(
        self,
        provider_id: str,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_secret: str | None,
        replaces: str | None,
    ) -> SignedIn:
        """A new session for the provider's answer, or `SignInRefused` (audited and counted)."""
        provider = self.provider(provider_id)
        tenant = self.tenant_of(provider)
        try:
            pending = self._take_pending(provider_id, state, browser_secret)
            if error:
                raise SignInRefused("provider_error", f"the provider answered {error[:100]!r}")
            if not code:
                raise SignInRefused("no_code", "the provider's answer has no code")
            token = provider.exchange(code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier)
            claims = provider.validate_id_token(
                token["id_token"], nonce=pending.nonce, access_token=token.get("access_token")
            )
            principal, user_id, groups = self._user_for(provider, claims)
        except SignInRefused as exc:
            self.refuse(exc.reason, str(exc), tenant_id=tenant, provider=provider_id)
            raise
        issued = self.sessions.create(
            tenant_id=principal.tenant_id,
            user_id=user_id,
            provider=provider_id,
            claimed_groups=groups,
            id_token=token["id_token"],
            replaces=replaces,
        )
        self._audit.record(principal, "sign_in", details={"provider": provider_id, "subject": str(claims.get("sub"))})
        return SignedIn(session=issued, principal=principal, next_path=pending.next_path)

    def _user_for(self, provider: OidcProvider, claims: dict[str, Any]) -> tuple[Principal, str, list[str]]:
        """The user the claims name (created on first sign-in if the provider allows), its principal at
        sign-in, and the groups claimed."""
        config = provider.config
        try:
            name = check_name(claims.get(config.user_claim), f"the {config.user_claim!r} claim")
        except PlatformError as exc:
            raise SignInRefused("no_user_claim", f"the ID token has no usable {config.user_claim!r} claim") from exc
        tenant = claims.get(config.tenant_claim) if config.tenant_claim else self.tenant_of(provider)
        raw_groups = claims.get(config.groups_claim, []) if config.groups_claim else []
        groups = [g for g in raw_groups if isinstance(g, str) and g] if isinstance(raw_groups, list) else []
        with self._db.session() as session:
            if not isinstance(tenant, str) or session.get(Tenant, tenant) is None:
                raise SignInRefused("unknown_tenant", f"the ID token names no known tenant ({tenant!r})")
            user = session.scalar(select(User).where(User.tenant_id == tenant, User.name == name))
            if user is None:
                if not config.create_users:
                    raise SignInRefused("unknown_user", f"{name!r} is not a user of tenant {tenant!r}")
                email, display = claims.get(config.email_claim), claims.get(config.name_claim)
                user = User(
                    tenant_id=tenant,
                    name=name,
                    email=email if isinstance(email, str) else None,
                    display_name=display if isinstance(display, str) else "",
                    role=Role(config.default_role),
                    source="oidc",
                    external_id=str(claims.get("sub")),
                )
                session.add(user)
                session.flush()
            elif user.disabled:
                raise SignInRefused("user_disabled", f"{name!r} is disabled")
            principal = Principal(tenant_id=tenant, name=name, role=Role(user.role), method="session")
            return principal, user.id, groups

    def principal_for_cookie(self, token: str, method: str, csrf_header: str | None) -> Principal:
        """The principal of a session cookie; an ended session or a missing CSRF token is refused and counted."""
        try:
            return self.sessions.resolve(token, method=method, csrf_header=csrf_header).principal
        except CsrfError:
            self.refusals.labels(reason="csrf").inc()
            raise
        except SessionEndedError:
            self.refusals.labels(reason="session_ended").inc()
            raise

    def sign_out(self, token: str | None, *, post_logout_redirect_uri: str) -> str | None:
        """End the cookie's session (audited); returns the provider's logout URL, if it has one."""
        ended = self.sessions.end(token) if token else None
        if ended is None:
            return None
        with self._db.session() as session:
            user = session.get(User, ended.user_id)
            name = user.name if user is not None else "unknown"
        actor = Principal(tenant_id=ended.tenant_id, name=name, role=Role.READER, method="session")
        self._audit.record(actor, "sign_out", details={"provider": ended.provider})
        provider = self.providers.get(ended.provider)
        if provider is None:
            return None
        return provider.logout_url(id_token=ended.id_token, post_logout_redirect_uri=post_logout_redirect_uri)
