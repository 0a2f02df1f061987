"""Signing in with a real OIDC provider on loopback (authorization code + PKCE), the session cookie, CSRF, sign-out,
and every way a sign-in must fail: each refused, audited with its reason and counted."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import CLIENT_ID, SsoSite
from .oidc_support import authorize, csrf, foreign, resign, sign_in, unsigned


@pytest.fixture
def browser(sso: SsoSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sso.site.url, timeout=30) as client:
        yield client


def refusals(sso: SsoSite) -> dict[str, float]:
    text = httpx.get(f"{sso.site.url}/metrics").text
    pattern = r'^groundwork_access_session_refusals_total\{reason="([^"]+)"\} ([0-9.e+]+)$'
    return {m.group(1): float(m.group(2)) for m in re.finditer(pattern, text, re.MULTILINE)}


def failed_reasons(sso: SsoSite) -> list[str]:
    entries = sso.site.api.get("/v1/admin/audit", params={"action": "sign_in.failed", "limit": 1000}).json()
    return [e["details"]["reason"] for e in entries]


def user(sso: SsoSite, sub: str, **claims: Any) -> str:
    email = str(claims.pop("email", f"{sub}@corp.test"))
    sso.provider.set_user(sub, {"email": email, "name": sub.title(), **claims})
    return email


def test_sign_in_creates_the_user_once_and_a_session_with_existing_groups_only(
    sso: SsoSite, browser: httpx.Client
) -> None:
    sso.site.api.post("/v1/admin/groups", json={"name": "eng"})
    email = user(sso, "alice", groups=["eng", "no-such-group"])
    done = sign_in(browser, "mock", "alice", next_path="/?conversation=1")
    assert done.status_code == 303 and done.headers["location"] == "/?conversation=1"
    cookie = next(h for h in done.headers.get_list("set-cookie") if h.startswith("gw_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http to 127.0.0.1 only
    me = browser.get("/v1/me").json()
    assert (me["name"], me["role"], me["groups"], me["method"]) == (email, "reader", ["eng"], "session")
    identities = sso.site.api.get("/v1/admin/identities").json()
    alice = next(u for u in identities["users"] if u["name"] == email)
    assert (alice["source"], alice["display_name"]) == ("oidc", "Alice")
    sign_in(browser, "mock", "alice")  # the second sign-in finds the same user
    assert sum(u["name"] == email for u in sso.site.api.get("/v1/admin/identities").json()["users"]) == 1
    # API keys keep working beside sessions, and win over a cookie.
    assert browser.get("/v1/me", headers={"Authorization": f"Bearer {sso.site.admin_key}"}).json()["name"] == "admin"


def test_the_cookie_is_secure_on_any_other_host(sso: SsoSite) -> None:
    with httpx.Client(base_url=sso.site.url, headers={"Host": "groundwork.example.com"}) as client:
        started = client.get("/auth/oidc/mock/login")
    assert started.status_code == 303
    assert "Secure" in started.headers["set-cookie"]
    assert (
        "redirect_uri=http%3A%2F%2Fgroundwork.example.com%2Fauth%2Foidc%2Fmock%2Fcallback"
        in started.headers["location"]
    )
    assert "code_challenge_method=S256" in started.headers["location"] and "nonce=" in started.headers["location"]


def test_state_changing_requests_need_the_csrf_token(sso: SsoSite, browser: httpx.Client) -> None:
    user(sso, "carol")
    sign_in(browser, "mock", "carol")
    before = refusals(sso).get("csrf", 0)
    body = {"query": "anything", "datastore_ids": []}
    refused = browser.post("/v1/search", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    wrong = browser.post("/v1/search", json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert refusals(sso)["csrf"] == before + 2
    assert browser.post("/v1/search", json=body, headers=csrf(browser)).status_code != 403
    assert browser.get("/v1/datastores").status_code == 200  # reading needs no token


def test_the_session_id_changes_at_sign_in(sso: SsoSite, browser: httpx.Client) -> None:
    user(sso, "dave")
    browser.cookies.set("gw_session", "planted-by-an-attacker", domain="127.0.0.1")
    sign_in(browser, "mock", "dave")
    first = browser.cookies["gw_session"]
    assert first != "planted-by-an-attacker"
    sign_in(browser, "mock", "dave")
    second = browser.cookies["gw_session"]
    assert second != first
    with httpx.Client(base_url=sso.site.url) as other:
        assert other.get("/v1/me", cookies={"gw_session": first}).status_code == 401  # the old one ended
        assert other.get("/v1/me", cookies={"gw_session": "planted-by-an-attacker"}).status_code == 401
        assert other.get("/v1/me", cookies={"gw_session": second}).status_code == 200


def test_sign_out_ends_the_session_and_offers_the_providers_logout(sso: SsoSite, browser: httpx.Client) -> None:
    email = user(sso, "erin")
    sign_in(browser, "mock", "erin")
    token = browser.cookies["gw_session"]
    assert browser.post("/auth/logout").status_code == 403  # CSRF here too
    out = browser.post("/auth/logout", headers=csrf(browser))
    assert out.status_code == 200
    logout_url = out.json()["logout_url"]
    assert logout_url.startswith(f"{sso.provider.url}/oauth2/end_session?") and "id_token_hint=" in logout_url
    assert "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1" in logout_url
    assert httpx.get(logout_url).status_code == 200  # the provider's end-session page
    assert httpx.get(f"{sso.site.url}/v1/me", cookies={"gw_session": token}).status_code == 401
    actions = [(e["action"], e["actor"]) for e in sso.site.api.get("/v1/admin/audit?limit=1000").json()]
    assert ("sign_out", email) in actions and ("sign_in", email) in actions


def _expect_refused(sso: SsoSite, response: httpx.Response, reason: str, before: dict[str, float]) -> None:
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/?sign_in_error={reason}", response.headers["location"]
    assert not any(h.startswith("gw_session=") for h in response.headers.get_list("set-cookie"))
    assert refusals(sso)[reason] == before.get(reason, 0) + 1
    assert failed_reasons(sso)[0] == reason


def test_every_bad_answer_is_refused_and_counted(sso: SsoSite, browser: httpx.Client) -> None:
    user(sso, "mallory")
    checked: list[str] = []

    def attempt(reason: str, answer_of: Any) -> None:
        before = refusals(sso)
        _expect_refused(sso, answer_of(), reason, before)
        checked.append(reason)
        with httpx.Client(base_url=sso.site.url) as fresh:
            assert fresh.get("/v1/me").status_code == 401

    # Wrong state: the provider's answer with a state this server never issued.
    _, answer = authorize(browser, "/auth/oidc/mock/login", "mallory")
    attempt("wrong_state", lambda: browser.get(answer.url.replace(answer.state, answer.state[::-1])))
    # Replayed code: an answer used once is refused the second time, and the code alone cannot finish another
    # sign-in (the provider refuses a used code).
    _, answer = authorize(browser, "/auth/oidc/mock/login", "mallory")
    assert browser.get(answer.url).headers["location"] == "/"
    attempt("wrong_state", lambda: browser.get(answer.url))
    _, fresh_answer = authorize(browser, "/auth/oidc/mock/login", "mallory")
    replay = fresh_answer.url.replace(fresh_answer.code, answer.code)
    attempt("code_rejected", lambda: browser.get(replay))
    # Another browser cannot finish a sign-in this one started.
    _, answer = authorize(browser, "/auth/oidc/mock/login", "mallory")
    with httpx.Client(base_url=sso.site.url) as other:
        attempt("wrong_browser", lambda: other.get(answer.url))
    # A provider handing out bad ID tokens.
    now = int(time.time())
    bad_tokens = {
        "wrong_nonce": lambda c, k: resign(c, k, nonce="not-the-nonce-we-sent"),
        "wrong_audience": lambda c, k: resign(c, k, aud="some-other-app"),
        "expired_token": lambda c, k: resign(c, k, exp=now - 3600, iat=now - 7200),
        "wrong_issuer": lambda c, k: resign(c, k, iss="https://evil.example"),
        "bad_signature": foreign,
    }
    for reason, tamper in bad_tokens.items():
        with sso.provider.misbehaving(tamper):
            _, answer = authorize(browser, "/auth/oidc/mock/login", "mallory")
            attempt(reason, lambda url=answer.url: browser.get(url))
    with sso.provider.misbehaving(unsigned):
        _, answer = authorize(browser, "/auth/oidc/mock/login", "mallory")
        attempt("bad_signature", lambda: browser.get(answer.url))
    # An open redirect in next=: refused before anything is sent to the provider.
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        before = refusals(sso).get("unsafe_redirect", 0)
        started = browser.get("/auth/oidc/mock/login", params={"next": target})
        assert started.status_code == 400, (target, started.text)
        assert refusals(sso)["unsafe_redirect"] == before + 1
    checked.append("unsafe_redirect")
    assert len(checked) == 11
    assert CLIENT_ID  # the audience the good tokens carry


def test_a_disabled_user_cannot_sign_in_and_loses_the_session(sso: SsoSite, browser: httpx.Client) -> None:
    email = user(sso, "frank")
    sign_in(browser, "mock", "frank")
    assert browser.get("/v1/me").status_code == 200
    assert sso.site.api.patch(f"/v1/admin/users/{email}", json={"disabled": True}).status_code == 200
    assert browser.get("/v1/me").status_code == 401
    before = refusals(sso)
    _expect_refused(sso, sign_in(browser, "mock", "frank"), "user_disabled", before)
