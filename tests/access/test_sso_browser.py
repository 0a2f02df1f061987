"""The chat UI in Debian's Chromium signing in through the real OIDC provider's pages and back: the identity and
groups on the user menu, the admins' People page with each user's and group's source, the session ending at
once when the user is disabled, and sign-out through the provider's end-session page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ..ui.harness import CHROMIUM, CHROMIUM_ARGS
from .conftest import SsoSite

expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the UI tests drive Debian's Chromium (scripts/setup_ui.sh --dev)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(chromium: Browser, sso: SsoSite) -> Iterator[Page]:
    context = chromium.new_context(base_url=sso.site.url, viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


def sign_in_at_the_provider(page: Page, sub: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign in with Mock IdP").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()  # the provider's own page
    page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator("#app")).to_be_visible()


def test_sign_in_with_the_provider_and_out_through_it(page: Page, sso: SsoSite) -> None:
    api = sso.site.api
    api.post("/v1/admin/groups", json={"name": "eng"})
    sso.provider.set_user("ivan", {"email": "ivan@corp.test", "name": "Ivan", "groups": ["eng", "unknown"]})
    sign_in_at_the_provider(page, "ivan")
    expect(page.locator("#who")).to_have_text("ivan@corp.test")
    expect(page.locator("#who-detail")).to_have_text("reader · default")
    expect(page.locator("#who-groups")).to_have_text("groups: eng · via mock")
    expect(page.get_by_role("button", name="People")).to_be_hidden()  # readers have no admin page
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0

    # An admin sees every user and group with its source.
    assert api.patch("/v1/admin/users/ivan@corp.test", json={"role": "admin"}).status_code == 200
    page.reload()
    page.get_by_role("button", name="People").click()
    dialog = page.get_by_role("dialog", name="People")
    expect(dialog.locator('tr[data-user="ivan@corp.test"]')).to_contain_text("OIDC sign-in")
    expect(dialog.locator('tr[data-user="admin"]')).to_contain_text("local")
    expect(dialog.locator('tr[data-group="eng"]')).to_contain_text("local")  # claimed groups are not memberships
    page.keyboard.press("Escape")

    # Sign-out ends the session here and at the provider (RP-initiated logout), then comes back.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("link", name="Sign in with Mock IdP")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()


def test_a_disabled_user_is_signed_out_on_the_next_request(page: Page, sso: SsoSite) -> None:
    sso.site.api.post("/v1/datastores", json={"name": "handbook"})  # something to ask (201, or 409 if there)
    sso.provider.set_user("judy", {"email": "judy@corp.test", "name": "Judy"})
    sign_in_at_the_provider(page, "judy")
    # The page must have finished loading as judy first: disabling her while it still loads signs her out early.
    expect(page.get_by_label("Ask a question")).to_be_visible()
    assert sso.site.api.patch("/v1/admin/users/judy@corp.test", json={"disabled": True}).status_code == 200
    page.get_by_label("Ask a question").fill("When is the metadata database backed up?")
    page.get_by_label("Ask a question").press("Enter")
    expect(page.locator("#signin-error")).to_have_text("Your session has ended: sign in again.")
    sign_in_link = page.get_by_role("link", name="Sign in with Mock IdP")
    sign_in_link.click()
    page.locator('input[name="sub"]').fill("judy")
    page.get_by_role("button", name="Authorize").click()
    expect(page.locator("#signin-error")).to_have_text("Sign-in failed: your account is disabled.")
