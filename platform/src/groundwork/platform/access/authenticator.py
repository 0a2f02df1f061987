"""Credentials -> principal: an API key (`Authorization: Bearer gw_...` or `X-API-Key`) or an identity token
(`Authorization: Bearer <JWT>`). No credentials, or bad ones, is an `AuthenticationError` (HTTP 401)."""

from __future__ import annotations

from groundwork.platform.access.identities import IdentityService
from groundwork.platform.access.keys import PREFIX
from groundwork.platform.access.principal import Principal
from groundwork.platform.access.tokens import TokenVerifier
from groundwork.platform.config import AccessConfig
from groundwork.platform.db.models import Role
from groundwork.platform.errors import AuthenticationError


class Authenticator:
    def __init__(
        self, identities: IdentityService, verifier: TokenVerifier, config: AccessConfig, *, default_tenant: str
    ) -> None:
        self._identities = identities
        self._verifier = verifier
        self._config = config
        self._default_tenant = default_tenant

    @property
    def enabled(self) -> bool:
        return self._config.enabled

    def authenticate(self, authorization: str | None, api_key: str | None = None) -> Principal:
        if not self._config.enabled:
            return Principal(
                tenant_id=self._default_tenant,
                name="anonymous",
                role=Role.ADMIN,
                method="anonymous",
                reads_everything=True,
            )
        token = api_key.strip() if api_key else None
        if token is None and authorization:
            scheme, _, credentials = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise AuthenticationError("the Authorization header must be 'Bearer <API key or token>'")
            token = credentials.strip()
        if not token:
            raise AuthenticationError("credentials required: send 'Authorization: Bearer <API key or token>'")
        if token.startswith(f"{PREFIX}_"):
            return self._identities.authenticate_key(token)
        identity = self._verifier.verify(token)
        return self._identities.principal_from_claims(
            tenant_id=identity.tenant_id,
            name=identity.name,
            role=identity.role,
            claimed_groups=identity.groups,
            subject=identity.subject,
        )
