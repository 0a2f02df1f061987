"""Signing in and out, and a reader seeing only what they may read."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from .harness import Site, add_user, ask, create_datastore, pick_datastores, sign_in, upload

CANARY = "zqcanary7f3e9a1c44"
PUBLIC = b"""# Release calendar

## Freezes

Code freeze for the spring release starts on March 3 and lasts one week.
"""
PRIVATE = f"""# Release calendar (board only)

## Freezes

The spring release freeze is secretly extended by the board until {CANARY}.
""".encode()


def test_without_a_key_only_the_sign_in_screen_shows(page: Page, site: Site) -> None:
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    page.get_by_label("API key or identity token").fill("gw_not_a_real_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("That key or token was not accepted.")
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0


def test_sign_in_lasts_for_the_tab_unless_remembered_and_sign_out_forgets(
    context: BrowserContext, page: Page, site: Site
) -> None:
    sign_in(page, site.admin_key)
    expect(page.locator("#who")).to_have_text("admin")
    expect(page.locator("#who-detail")).to_have_text("admin · default")
    page.reload()
    expect(page.locator("#app")).to_be_visible()  # the key is kept in this tab's sessionStorage
    assert page.evaluate("localStorage.getItem('groundwork.token')") is None
    other = context.new_page()
    other.goto("/")
    expect(other.get_by_role("button", name="Sign in")).to_be_visible()  # not in another tab
    other.close()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('groundwork.token')") is None

    sign_in(page, site.admin_key, remember=True)
    other = context.new_page()
    other.goto("/")
    expect(other.locator("#app")).to_be_visible()  # remembered on this device
    other.get_by_role("button", name="Sign out").click()
    assert other.evaluate("localStorage.getItem('groundwork.token')") is None


def test_a_revoked_key_signs_the_user_out(page: Page, site: Site) -> None:
    token = add_user(site.api, "rita")
    sign_in(page, token)
    key_id = site.api.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["key_id"]
    assert site.api.delete(f"/v1/admin/api-keys/{key_id}").status_code in (200, 204)
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Ask a question").fill("When is the metadata database backed up?")
    page.get_by_label("Ask a question").press("Enter")
    expect(page.locator("#signin-error")).to_have_text("Your session has ended: sign in again.")


def test_a_reader_sees_only_what_they_may_read(page: Page, site: Site) -> None:
    create_datastore(site.api, "releases")
    upload(site.api, "releases", "calendar.md", PUBLIC)
    upload(site.api, "releases", "board.md", PRIVATE, acl={"users": ["bea"]})
    token = add_user(site.api, "ana")
    sign_in(page, token)
    expect(page.locator("#who")).to_have_text("ana")
    expect(page.locator("#who-detail")).to_have_text("reader · default")
    pick_datastores(page, site, {"releases"})
    ask(page, "When does the code freeze for the spring release start, and how long does it last?")
    answer = page.locator(".message.assistant").last
    expect(answer.locator(".answer-body")).to_contain_text("March 3")
    for marker in answer.locator(".cite").all():
        marker.click()
        expect(page.locator("#source-panel .source-title")).to_have_text("Release calendar")
        page.keyboard.press("Escape")
    page.get_by_role("button", name="Documents").click()
    dialog = page.get_by_role("dialog", name="Documents")
    dialog.get_by_label("Datastore", exact=True).select_option(label="releases")
    expect(dialog.locator(".document-list tbody tr")).to_have_count(1)
    expect(dialog.locator(".document-list")).to_contain_text("Release calendar")
    expect(dialog.locator(".dropzone")).to_be_hidden()  # readers do not upload
    expect(dialog.get_by_label("New datastore")).to_be_hidden()
    assert CANARY not in page.content()
    assert "board only" not in page.content()
