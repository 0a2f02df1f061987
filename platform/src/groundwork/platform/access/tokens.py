"""Bearer identity tokens (JWTs from an OIDC provider), verified against the provider's JWKS with PyJWT.

Only asymmetric algorithms are accepted, so the platform never holds a key that could mint tokens. Signature,
expiry (`exp` is required), not-before, issuer and audience are checked; then the configured claims give the
user's name, tenant, groups and role. Anything wrong is an `AuthenticationError` with the reason.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import jwt

from groundwork.platform.config import JwtConfig
from groundwork.platform.db.models import Role
from groundwork.platform.errors import AuthenticationError, InvalidRequestError

logger = logging.getLogger(__name__)

_SYMMETRIC = {"HS256", "HS384", "HS512", "none"}


@dataclass(frozen=True)
class TokenIdentity:
    """What a verified token says about its bearer."""

    tenant_id: str
    name: str
    role: Role
    groups: tuple[str, ...]
    subject: str


class TokenVerifier:
    def __init__(self, config: JwtConfig) -> None:
        if config.jwks_url and config.jwks_file:
            raise InvalidRequestError("set access.jwt.jwks_url or access.jwt.jwks_file, not both")
        unsafe = _SYMMETRIC.intersection(config.algorithms)
        if unsafe:
            raise InvalidRequestError(f"access.jwt.algorithms must be asymmetric; remove {', '.join(sorted(unsafe))}")
        self._config = config
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if config.jwks_url:
            self._client = jwt.PyJWKClient(
                config.jwks_url, cache_keys=True, lifespan=config.jwks_cache_seconds, timeout=10
            )
        elif config.jwks_file:
            try:
                self._keys = jwt.PyJWKSet.from_dict(json.loads(config.jwks_file.read_text()))
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                raise InvalidRequestError(f"cannot read access.jwt.jwks_file {config.jwks_file}: {exc}") from exc

    @property
    def enabled(self) -> bool:
        return self._client is not None or self._keys is not None

    def _signing_key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        if self._keys is None:
            raise AuthenticationError("identity tokens are not configured; use an API key")
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise AuthenticationError("token signed by an unknown key")

    def verify(self, token: str) -> TokenIdentity:
        if not self.enabled:
            raise AuthenticationError("identity tokens are not configured; use an API key")
        config = self._config
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=config.algorithms,
                audience=config.audience,
                issuer=config.issuer,
                leeway=config.leeway_seconds,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWKClientError as exc:
            logger.warning("cannot fetch the identity provider's signing keys: %s", exc)
            raise AuthenticationError(f"token signing key unavailable: {exc}") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        name = claims.get(config.user_claim)
        if not isinstance(name, str) or not name:
            raise AuthenticationError(f"token has no {config.user_claim!r} claim")
        tenant = claims.get(config.tenant_claim, config.default_tenant)
        if not isinstance(tenant, str) or not tenant:
            raise AuthenticationError(f"token has no {config.tenant_claim!r} claim")
        raw_groups = claims.get(config.groups_claim, [])
        groups = tuple(g for g in raw_groups if isinstance(g, str)) if isinstance(raw_groups, list) else ()
        raw_role = claims.get(config.role_claim)
        role = Role(raw_role) if raw_role in {r.value for r in Role} else Role.READER
        return TokenIdentity(tenant_id=tenant, name=name, role=role, groups=groups, subject=str(claims["sub"]))
