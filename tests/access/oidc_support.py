"""A real OIDC provider on loopback for the sign-in tests: `oidc-provider-mock` (authlib's server components in
a Flask app, with discovery, JWKS, authorization form, token endpoint and end-session endpoint), plus a switch
that makes its token endpoint misbehave (a wrong nonce, audience or expiry, an unsigned or foreign-signed ID
token) the way a broken or hostile provider would; and the browser's side of the flow over plain HTTP."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import flask
import httpx
import oidc_provider_mock
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

AT_PROVIDER = httpx.Client(timeout=30)
"""The browser's requests to the provider's pages (one client: building one costs a TLS context each time)."""

Tamper = Callable[[dict[str, Any], dict[str, Any]], str]
"""(ID-token claims, the provider's private JWK) -> the ID token to hand out instead."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resign(claims: dict[str, Any], private_jwk: dict[str, Any], **changes: Any) -> str:
    """The provider's own signature over changed claims."""
    key = RSAKey.import_key(private_jwk)
    return jwt.encode({"alg": "RS256", "kid": private_jwk.get("kid")}, {**claims, **changes}, key)


def unsigned(claims: dict[str, Any], _jwk: dict[str, Any]) -> str:
    """`alg: none`: no signature at all."""
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."


def foreign(claims: dict[str, Any], private_jwk: dict[str, Any]) -> str:
    """Signed by another key under the provider's key id (a forgery)."""
    other = RSAKey.generate_key(2048, private=True)
    return jwt.encode({"alg": "RS256", "kid": private_jwk.get("kid")}, claims, other)


@dataclass
class Provider:
    url: str
    tamper: list[Tamper | None] = field(default_factory=lambda: [None])

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        assert AT_PROVIDER.put(f"{self.url}/users/{sub}", json=claims).status_code == 204

    @contextmanager
    def misbehaving(self, tamper: Tamper) -> Iterator[None]:
        self.tamper[0] = tamper
        try:
            yield
        finally:
            self.tamper[0] = None


@contextmanager
def run_provider() -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True)
    app.debug = False
    provider = Provider(url="")

    def tamper_id_token(response: flask.Response) -> flask.Response:
        change = provider.tamper[0]
        if change is None or flask.request.path != "/oauth2/token" or response.status_code != 200:
            return response
        body = response.get_json()
        storage = flask.g.oidc_provider_mock_storage
        private = storage.jwk.as_dict(is_private=True)
        claims = jwt.decode(body["id_token"], RSAKey.import_key(private)).claims
        body["id_token"] = change(claims, private)
        response.set_data(flask.json.dumps(body))
        return response

    app.after_request(tamper_id_token)

    class Quiet(werkzeug.serving.WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return

    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    provider.url = f"http://localhost:{server.server_port}"
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)


@dataclass
class Answer:
    """Where the provider sent the browser back to: the callback URL, its code and state."""

    url: str
    code: str
    state: str


def authorize(browser: httpx.Client, login_path: str, sub: str) -> tuple[httpx.Response, Answer]:
    """Start a sign-in at the platform and approve it at the provider as `sub`; the platform's answer is not
    followed yet (returned is the login response and the provider's redirect back)."""
    started = browser.get(login_path)
    assert started.status_code == 303, started.text
    approved = AT_PROVIDER.post(started.headers["location"], data={"sub": sub})
    assert approved.status_code == 302, approved.text
    back = approved.headers["location"]
    query = parse_qs(urlparse(back).query)
    return started, Answer(url=back, code=query["code"][0], state=query["state"][0])


def sign_in(browser: httpx.Client, provider_id: str, sub: str, *, next_path: str = "/") -> httpx.Response:
    """The whole flow; returns the platform's callback response (a redirect to `next_path` when signed in)."""
    _, answer = authorize(browser, f"/auth/oidc/{provider_id}/login?next={next_path}", sub)
    return browser.get(answer.url)


def csrf(browser: httpx.Client) -> dict[str, str]:
    session = browser.get("/auth/session")
    assert session.status_code == 200, session.text
    return {"X-CSRF-Token": session.json()["csrf_token"]}


def wait_until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@dataclass(frozen=True)
class CookieSession:
    """A signed-in browser's credentials, carried by hand (for clients whose cookie jar is shared)."""

    cookie: str
    csrf_token: str

    def headers(self, *, changing: bool = False) -> dict[str, str]:
        headers = {"Cookie": f"gw_session={self.cookie}"}
        if changing:
            headers["X-CSRF-Token"] = self.csrf_token
        return headers


def cookie_session(client: Any, provider_id: str, sub: str) -> CookieSession:
    """Sign in through the provider with any httpx-like client (a TestClient too), carrying cookies by hand."""
    started = client.get(f"/auth/oidc/{provider_id}/login", follow_redirects=False)
    assert started.status_code == 303, started.text
    browser = started.cookies["gw_sign_in"]
    approved = AT_PROVIDER.post(started.headers["location"], data={"sub": sub})
    back = urlparse(approved.headers["location"])
    done = client.get(f"{back.path}?{back.query}", headers={"Cookie": f"gw_sign_in={browser}"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/", done.headers.get("location")
    cookie = done.cookies["gw_session"]
    client.cookies.clear()
    session = client.get("/auth/session", headers={"Cookie": f"gw_session={cookie}"})
    assert session.status_code == 200, session.text
    return CookieSession(cookie, session.json()["csrf_token"])
