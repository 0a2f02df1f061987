"""Bearer identity tokens through the API: JWTs signed with locally generated keys (standing in for an OIDC
provider), verified against a JWKS served over HTTP or read from a file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient

from groundwork.platform.config import AccessConfig, JwtConfig

from ..conftest import api_client, make_settings

ISSUER = "https://idp.example.test"
AUDIENCE = "groundwork"


def new_key(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public_jwk, "kid": kid, "use": "sig", "alg": "RS256"}


SIGNING_KEY, SIGNING_JWK = new_key("k1")
OTHER_KEY, _ = new_key("k1")  # same kid, different key: a forgery


def hs256_forgery(claims: dict[str, Any]) -> str:
    """The algorithm-confusion attack: an HS256 token whose HMAC secret is the provider's PUBLIC key (PEM)."""
    public_pem = SIGNING_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "exp": now + 300, "tenant": "default", **claims}

    def part(data: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": "k1"}) + b"." + part(body)
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + signature).decode()


def token(claims: dict[str, Any], *, key: Any = SIGNING_KEY, kid: str = "k1") -> str:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "iat": now, "exp": now + 300, "tenant": "default"}
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps({"keys": [SIGNING_JWK]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture(params=["url", "file"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    if request.param == "url":
        jwt_config = JwtConfig(jwks_url=request.getfixturevalue("jwks_url"), issuer=ISSUER, audience=AUDIENCE)
    else:
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps({"keys": [SIGNING_JWK]}))
        jwt_config = JwtConfig(jwks_file=path, issuer=ISSUER, audience=AUDIENCE)
    settings = make_settings(tmp_path / "data", access=AccessConfig(jwt=jwt_config))
    with api_client(settings) as test_client:
        assert test_client.post("/v1/admin/groups", json={"name": "sre"}).status_code == 201
        yield test_client


def me(client: TestClient, bearer: str) -> Any:
    return client.get("/v1/me", headers={"Authorization": f"Bearer {bearer}"})


def test_a_valid_token_is_a_principal_with_the_tenants_known_groups(client: TestClient) -> None:
    response = me(
        client, token({"email": "ana@acme.com", "groups": ["sre", "not-a-group"], "groundwork_role": "editor"})
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "tenant_id": "default",
        "name": "ana@acme.com",
        "role": "editor",
        "groups": ["sre"],
        "method": "jwt",
        "key_id": "u-1",
    }
    assert me(client, token({"email": "bo@acme.com", "groundwork_role": "superuser"})).json()["role"] == "reader"


@pytest.mark.parametrize(
    ("case", "bearer"),
    [
        ("expired", lambda: token({"email": "a@x", "exp": int(time.time()) - 120})),
        ("not yet valid", lambda: token({"email": "a@x", "nbf": int(time.time()) + 600})),
        (
            "no expiry",
            lambda: jwt.encode(
                {"iss": ISSUER, "aud": AUDIENCE, "sub": "s", "email": "a@x"},
                SIGNING_KEY,
                "RS256",
                headers={"kid": "k1"},
            ),
        ),
        ("wrong issuer", lambda: token({"email": "a@x", "iss": "https://evil.test"})),
        ("wrong audience", lambda: token({"email": "a@x", "aud": "someone-else"})),
        ("forged signature", lambda: token({"email": "a@x"}, key=OTHER_KEY)),
        ("unknown key id", lambda: token({"email": "a@x"}, kid="k9")),
        ("HS256 with the public key", lambda: hs256_forgery({"email": "a@x"})),
        ("alg none", lambda: jwt.encode({"email": "a@x", "exp": int(time.time()) + 60}, None, algorithm="none")),
        ("no user claim", lambda: token({})),
        ("unknown tenant", lambda: token({"email": "a@x", "tenant": "globex"})),
        ("garbage", lambda: "not.a.token"),
    ],
)
def test_a_bad_token_is_refused_with_401(client: TestClient, case: str, bearer: Any) -> None:
    response = me(client, bearer())
    assert response.status_code == 401, (case, response.text)
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
