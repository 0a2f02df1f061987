"""SCIM 2.0 at /scim/v2 against the running server: the conformance checks of `scim2-tester`, deprovisioning
(a deactivated user loses every API key and browser session on its next request) and group membership changes
counting on the next query."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from ..ui.harness import create_datastore, upload
from .conftest import SsoSite
from .oidc_support import sign_in

FAILED = {Status.ERROR, Status.CRITICAL}


@pytest.fixture(scope="module")
def scim_token(sso: SsoSite) -> str:
    created = sso.site.api.post("/v1/admin/scim-tokens")
    assert created.status_code == 201, created.text
    token: str = created.json()["token"]
    return token


@pytest.fixture
def scim(sso: SsoSite, scim_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {scim_token}", "Content-Type": "application/scim+json"}
    with httpx.Client(base_url=f"{sso.site.url}/scim/v2", headers=headers, timeout=30) as client:
        yield client


def test_scim2_tester_finds_no_failure(sso: SsoSite, scim_token: str) -> None:
    transport = httpx2.Client(
        base_url=f"{sso.site.url}/scim/v2", headers={"Authorization": f"Bearer {scim_token}"}, timeout=30
    )
    with transport:
        client = SyncSCIMClient(transport)
        results = check_server(client)
    tally = Counter(r.status.name for r in results)
    failures = [f"{r.resource_type or '-'} {r.title}: {r.reason}" for r in results if r.status in FAILED]
    print(f"scim2-tester: {len(results)} checks, {dict(tally)}")  # noqa: T201
    assert failures == [], "\n".join(failures)
    assert tally["SUCCESS"] > 20


def _scim_user(scim: httpx.Client, name: str) -> str:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "displayName": name.split("@")[0].title(),
        "emails": [{"value": name, "primary": True}],
        "active": True,
        "externalId": f"idp-{name}",
    }
    created = scim.post("/Users", json=body)
    assert created.status_code == 201, created.text
    user_id: str = created.json()["id"]
    return user_id


def _patch(scim: httpx.Client, path: str, *operations: dict[str, object]) -> httpx.Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}
    return scim.patch(path, json=body)


def test_a_user_deactivated_over_scim_loses_every_key_and_session_at_once(sso: SsoSite, scim: httpx.Client) -> None:
    name = "grace@acme.io"
    user_id = _scim_user(scim, name)
    listed = scim.get("/Users", params={"filter": f'userName eq "{name}"'}).json()
    assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == user_id
    keys = [sso.site.api.post("/v1/admin/api-keys", json={"user": name}).json()["token"] for _ in range(2)]
    sso.provider.set_user("grace", {"email": name})
    with httpx.Client(base_url=sso.site.url) as browser:
        assert sign_in(browser, "mock", "grace").headers["location"] == "/"
        assert browser.get("/v1/me").json()["name"] == name
        for key in keys:
            assert httpx.get(f"{sso.site.url}/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert _patch(scim, f"/Users/{user_id}", {"op": "replace", "path": "active", "value": False}).status_code == 200
        for key in keys:
            assert httpx.get(f"{sso.site.url}/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
        assert browser.get("/v1/me").status_code == 401  # signed out of the UI on the next request
        # Reactivated, the old keys stay revoked; deleted, the user is gone.
        assert _patch(scim, f"/Users/{user_id}", {"op": "replace", "path": "active", "value": True}).status_code == 200
        assert httpx.get(f"{sso.site.url}/v1/me", headers={"Authorization": f"Bearer {keys[0]}"}).status_code == 401
        assert sign_in(browser, "mock", "grace").headers["location"] == "/"
        assert scim.delete(f"/Users/{user_id}").status_code == 204
        assert browser.get("/v1/me").status_code == 401
    assert scim.get(f"/Users/{user_id}").status_code == 404
    actions = {e["action"] for e in sso.site.api.get("/v1/admin/audit?limit=1000").json()}
    assert {"scim.user.create", "scim.user.patch", "scim.user.delete"} <= actions


def test_scim_group_membership_counts_on_the_next_query(sso: SsoSite, scim: httpx.Client) -> None:
    name = "heidi@acme.io"
    user_id = _scim_user(scim, name)
    group = scim.post(
        "/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "sre-oncall"}
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    create_datastore(sso.site.api, "pager")
    upload(
        sso.site.api,
        "pager",
        "pager.md",
        b"# Pager\n\nThe zqcanarypager01 rotation hands over on Fridays.\n",
        acl={"groups": ["sre-oncall"]},
    )
    key = sso.site.api.post("/v1/admin/api-keys", json={"user": name}).json()["token"]

    def hits() -> int:
        body = {"query": "zqcanarypager01", "datastore_ids": ["pager"], "mode": "lexical"}
        found = httpx.post(f"{sso.site.url}/v1/search", json=body, headers={"Authorization": f"Bearer {key}"})
        assert found.status_code == 200, found.text
        return len(found.json()["hits"])

    assert hits() == 0
    added = _patch(scim, f"/Groups/{group_id}", {"op": "add", "path": "members", "value": [{"value": user_id}]})
    assert added.status_code == 200, added.text
    assert hits() == 1  # the cached allowed ids of the old membership are not reused
    assert scim.get(f"/Users/{user_id}").json()["groups"][0]["display"] == "sre-oncall"
    removed = _patch(scim, f"/Groups/{group_id}", {"op": "remove", "path": f'members[value eq "{user_id}"]'})
    assert removed.status_code == 200, removed.text
    assert hits() == 0
    sources = {g["name"]: g["source"] for g in sso.site.api.get("/v1/admin/identities").json()["groups"]}
    assert sources["sre-oncall"] == "scim"


def test_scim_refuses_other_credentials(sso: SsoSite) -> None:
    for headers in ({}, {"Authorization": f"Bearer {sso.site.admin_key}"}, {"Authorization": "Bearer gwscim_0_x"}):
        refused = httpx.get(f"{sso.site.url}/scim/v2/Users", headers=headers)
        assert refused.status_code == 401 and refused.json()["status"] == "401"
