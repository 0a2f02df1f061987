"""One OpenID Connect provider, as a relying party: discovery, the authorization request (state, nonce, PKCE
S256), the code exchange and ID-token validation, all with authlib (its httpx client and its OIDC claim
classes over joserfc). Nothing here is hand-written OAuth: this module only chooses what is checked.

An ID token is accepted only if its signature verifies with a key of the provider's JWKS under an asymmetric
algorithm of `algorithms` (an unsigned or `alg: none` token, or a symmetric one, never is), its `iss` is the
configured issuer, its `aud` names our client id, it has not expired, and its `nonce` is the one this sign-in
sent. Any failure is a `SignInRefused` with a stable reason.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from groundwork.platform.config import OidcProviderConfig
from groundwork.platform.errors import AuthenticationError, InvalidRequestError

logger = logging.getLogger(__name__)

_SYMMETRIC = {"HS256", "HS384", "HS512", "none"}
_CLAIM_REASONS = {"nonce": "wrong_nonce", "aud": "wrong_audience", "iss": "wrong_issuer", "azp": "wrong_audience"}


class SignInRefused(AuthenticationError):
    """A sign-in that failed; `reason` is stable (audit entries and the failure counter use it)."""

    code = "sign_in_failed"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class OidcProvider:
    def __init__(self, config: OidcProviderConfig, *, timeout: float = 10.0) -> None:
        unsafe = _SYMMETRIC.intersection(config.algorithms)
        if unsafe:
            raise InvalidRequestError(f"OIDC provider {config.id}: algorithms must be asymmetric, not {unsafe}")
        self.config = config
        self._timeout = timeout
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._jwks: dict[str, Any] | None = None
        self._fetched_at = 0.0
        # One connection pool (and TLS context, costly to build) for every request to this provider.
        self._transport = httpx2.HTTPTransport()
        self._http = httpx2.Client(transport=self._transport, timeout=timeout)

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def display_name(self) -> str:
        return self.config.display_name or self.config.id

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            body = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise SignInRefused("provider_unreachable", f"cannot read {url}: {exc}") from exc
        if not isinstance(body, dict):
            raise SignInRefused("provider_unreachable", f"{url} did not return a JSON object")
        return body

    def metadata(self, *, refresh: bool = False) -> dict[str, Any]:
        """The discovery document (cached for `metadata_cache_seconds`); its issuer must be the configured one."""
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.config.metadata_cache_seconds
            if self._metadata is None or refresh or stale:
                url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                metadata = self._get_json(url)
                if metadata.get("issuer") != self.config.issuer:
                    raise SignInRefused("wrong_issuer", f"discovery at {url} names issuer {metadata.get('issuer')!r}")
                for required in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(metadata.get(required), str):
                        raise SignInRefused("provider_unreachable", f"discovery at {url} has no {required}")
                self._metadata, self._jwks, self._fetched_at = metadata, None, time.monotonic()
            return self._metadata

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            if self._jwks is None or refresh:
                self._jwks = self._get_json(metadata["jwks_uri"])
            jwks = self._jwks
        try:
            return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise SignInRefused("provider_unreachable", f"the provider's JWKS cannot be read: {exc}") from exc

    def _client(self, redirect_uri: str) -> OAuth2Client:
        """A client for one sign-in (authlib's clients keep the last token: never shared across sign-ins), on
        the provider's shared transport (so it is not closed: the transport outlives it)."""
        scopes = ["openid", *(s for s in self.config.scopes if s != "openid")]
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=" ".join(scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self._timeout,
            transport=self._transport,
        )

    def authorization_url(self, redirect_uri: str, *, state: str, nonce: str, code_verifier: str) -> str:
        url, _ = self._client(redirect_uri).create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, code_verifier=code_verifier, nonce=nonce
        )
        return str(url)

    def exchange(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for `code` (it must hold an ID token)."""
        try:
            token = dict(
                self._client(redirect_uri).fetch_token(
                    self.metadata()["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
            )
        except (OAuth2Error, OAuthError) as exc:
            raise SignInRefused("code_rejected", f"the provider refused the code: {exc.error}") from exc
        except httpx2.HTTPError as exc:
            raise SignInRefused("provider_unreachable", f"the token endpoint failed: {exc}") from exc
        if not isinstance(token.get("id_token"), str):
            raise SignInRefused("no_id_token", "the provider's answer has no ID token")
        return token

    def _decode(self, id_token: str) -> jwt.Token:
        registry = JWSRegistry(algorithms=self.config.algorithms)
        try:
            try:
                return jwt.decode(id_token, self._key_set(), registry=registry)
            except InvalidKeyIdError:
                return jwt.decode(id_token, self._key_set(refresh=True), registry=registry)
        except JoseError as exc:
            raise SignInRefused("bad_signature", f"the ID token's signature is not valid: {exc}") from exc
        except ValueError as exc:
            raise SignInRefused("bad_signature", f"the ID token is malformed: {exc}") from exc

    def validate_id_token(self, id_token: str, *, nonce: str, access_token: str | None = None) -> dict[str, Any]:
        """The ID token's claims, once signature, issuer, audience, expiry and nonce are checked."""
        token = self._decode(id_token)
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.config.issuer},
            "aud": {"essential": True, "value": self.config.client_id},
            "exp": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        params = {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token}
        claims = CodeIDToken(token.claims, token.header, options, params)
        try:
            claims.validate(leeway=self.config.leeway_seconds)
        except ExpiredTokenError as exc:
            raise SignInRefused("expired_token", "the ID token has expired") from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            reason = _CLAIM_REASONS.get(exc.claim, f"invalid_{exc.claim}")
            raise SignInRefused(reason, f"the ID token's {exc.claim!r} claim is not acceptable") from exc
        except ClaimError as exc:
            raise SignInRefused("invalid_claims", f"the ID token's claims are not acceptable: {exc}") from exc
        return dict(claims)

    def logout_url(self, *, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser for RP-initiated logout, if the provider supports it."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except SignInRefused as exc:
            logger.warning("no RP-initiated logout at %s: %s", self.id, exc)
            return None
        if not isinstance(endpoint, str):
            return None
        params: dict[str, str] = {
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "client_id": self.config.client_id,
        }
        if id_token:
            params["id_token_hint"] = id_token
        return str(httpx2.URL(endpoint, params=params))
