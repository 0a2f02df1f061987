"""Fail closed, through the API: no principal is 401 on every /v1 route; a role too low is 403; an empty ACL is
for tenant admins only; an ACL naming an unknown group matches nobody; another tenant's ids are all 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ..conftest import api_client, make_settings
from .helpers import add_group, add_user, bearer, upload, wait_job


@dataclass
class World:
    client: TestClient
    admin: str
    editor: str
    reader: str
    globex_admin: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("fail-closed") / "data")
    with api_client(settings) as client:
        admin = client.headers["Authorization"].removeprefix("Bearer ")
        add_group(client, "sre")
        editor = add_user(client, "ed", "editor", ("sre",))
        reader = add_user(client, "rita", "reader", ("sre",))
        created = client.post("/v1/admin/tenants", json={"id": "globex"})
        assert created.status_code == 201, created.text
        globex_admin = created.json()["admin_key"]["token"]
        assert client.post("/v1/datastores", json={"name": "ops"}).status_code == 201
        ids: dict[str, str] = {"datastore": client.get("/v1/datastores/ops").json()["id"]}
        documents = {
            "public": ("# Public\n\nThe cafeteria opens at eight.", "tenant"),
            "empty": ("# Empty ACL\n\nThe vault code rotates weekly.", "private"),
            "ghost": ("# Ghost group\n\nThe ghost group runbook.", {"groups": ["ghost"]}),
            "sre": ("# SRE\n\nThe pager rotation is documented here.", {"groups": ["sre"]}),
        }
        for key, (text, acl) in documents.items():
            accepted = upload(client, "ops", f"{key}.md", text, acl)
            wait_job(client, accepted["job"]["id"])
            ids[key] = accepted["document_id"]
            ids[f"job_{key}"] = accepted["job"]["id"]
        answer = client.post("/v1/answer", json={"question": "When does the cafeteria open?", "datastore_ids": ["ops"]})
        ids["conversation"] = answer.json()["conversation_id"]
        hit = client.post("/v1/search", json={"query": "cafeteria", "datastore_ids": ["ops"]}).json()["hits"][0]
        ids["chunk"] = str(hit["chunk_id"])
        ids["key"] = client.get("/v1/admin/api-keys").json()[0]["id"]
        yield World(client, admin, editor, reader, globex_admin, ids)


def _fill(path: str, ids: dict[str, str]) -> str:
    values = {
        "datastore": ids["datastore"],
        "document_id": ids["public"],
        "job_id": ids["job_public"],
        "conversation_id": ids["conversation"],
        "message_id": "1",
        "key_id": ids["key"],
        "user": "rita",
        "group": "sre",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)


def test_every_v1_route_refuses_a_request_without_credentials(world: World) -> None:
    """All of them, from the OpenAPI document: a route added later without the principal dependency fails here."""
    client = world.client
    paths: dict[str, dict[str, Any]] = client.get("/openapi.json").json()["paths"]
    checked = 0
    for path, operations in paths.items():
        if not path.startswith("/v1/"):
            continue
        for method in operations:
            url = _fill(path, world.ids)
            for headers in ({"Authorization": ""}, {"Authorization": "Basic YWRtaW46YWRtaW4="}, bearer("gw_nope")):
                response = client.request(method.upper(), url, headers=headers, json={})
                assert response.status_code == 401, (method, url, headers, response.text)
                assert response.json()["error"]["code"] == "unauthenticated"
                checked += 1
    assert checked >= 3 * 30, f"only {checked} route checks: did the OpenAPI document lose routes?"
    print(f"fail closed: {checked} route x credential checks, all 401")  # noqa: T201


ROLE_CASES = [
    ("reader", "POST", "/v1/datastores", {"name": "x"}),
    ("reader", "DELETE", "/v1/datastores/ops/documents/{public}", None),
    ("reader", "PUT", "/v1/datastores/ops/documents/{public}/acl", {"tenant": True}),
    ("reader", "POST", "/v1/datastores/ops/sync", {"source": "gs://b/p"}),
    ("reader", "POST", "/v1/jobs/{job_public}/retry", None),
    ("reader", "GET", "/v1/admin/users", None),
    ("reader", "POST", "/v1/admin/api-keys", {"user": "rita"}),
    ("reader", "GET", "/v1/admin/audit", None),
    ("editor", "DELETE", "/v1/datastores/ops", None),
    ("editor", "GET", "/v1/admin/users", None),
    ("editor", "POST", "/v1/admin/groups", {"name": "g"}),
    ("editor", "DELETE", "/v1/admin/api-keys/{key}", None),
    ("editor", "GET", "/v1/admin/audit", None),
    ("editor", "POST", "/v1/admin/tenants", {"id": "initech"}),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), ROLE_CASES)
def test_a_role_too_low_is_refused_with_403(world: World, role: str, method: str, path: str, body: Any) -> None:
    token = world.reader if role == "reader" else world.editor
    url = path.format(**world.ids)
    response = world.client.request(method, url, headers=bearer(token), json=body)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


def _visible(world: World, token: str) -> set[str]:
    response = world.client.get("/v1/datastores/ops/documents", headers=bearer(token))
    assert response.status_code == 200
    return {d["id"] for d in response.json()["items"]}


def test_empty_acls_are_for_admins_and_unknown_groups_match_nobody(world: World) -> None:
    ids = world.ids
    # Admins read documents with an empty ACL, but not others' documents their ACL does not name.
    assert _visible(world, world.admin) == {ids["public"], ids["empty"]}
    assert _visible(world, world.editor) == {ids["public"], ids["sre"]}
    assert _visible(world, world.reader) == {ids["public"], ids["sre"]}
    for token in (world.admin, world.editor, world.reader):
        hits = world.client.post(
            "/v1/search", json={"query": "ghost group runbook", "datastore_ids": ["ops"]}, headers=bearer(token)
        ).json()["hits"]
        assert ids["ghost"] not in {h["document_id"] for h in hits}
        response = world.client.get(f"/v1/datastores/ops/documents/{ids['ghost']}", headers=bearer(token))
        assert response.status_code == 404  # not 403: its existence is not revealed either
    # A group created later with that name starts matching its members; none yet, so still nobody.
    add_group(world.client, "ghost")
    assert ids["ghost"] not in _visible(world, world.admin)


def test_another_tenants_ids_are_all_not_found(world: World) -> None:
    ids, globex = world.ids, bearer(world.globex_admin)
    assert world.client.post("/v1/datastores", json={"name": "ops"}, headers=globex).status_code == 201  # same name
    requests = [
        ("GET", f"/v1/datastores/{ids['datastore']}", None),
        ("GET", f"/v1/datastores/{ids['datastore']}/documents", None),
        ("GET", f"/v1/datastores/ops/documents/{ids['public']}", None),
        ("GET", f"/v1/datastores/{ids['datastore']}/documents/{ids['public']}", None),
        ("GET", f"/v1/datastores/{ids['datastore']}/documents/{ids['public']}/preview?chunk_id={ids['chunk']}", None),
        ("GET", f"/v1/datastores/{ids['datastore']}/documents/{ids['public']}/file", None),
        ("PUT", f"/v1/datastores/{ids['datastore']}/documents/{ids['public']}/acl", {"tenant": True}),
        ("DELETE", f"/v1/datastores/{ids['datastore']}/documents/{ids['public']}", None),
        ("DELETE", f"/v1/datastores/{ids['datastore']}", None),
        ("GET", f"/v1/jobs/{ids['job_public']}", None),
        ("GET", f"/v1/jobs/{ids['job_public']}/documents", None),
        ("POST", f"/v1/jobs/{ids['job_public']}/retry", None),
        ("GET", f"/v1/conversations/{ids['conversation']}", None),
        ("PATCH", f"/v1/conversations/{ids['conversation']}", {"title": "mine now"}),
        ("DELETE", f"/v1/conversations/{ids['conversation']}", None),
        ("POST", f"/v1/conversations/{ids['conversation']}/messages/1/feedback", {"rating": 1}),
        ("DELETE", f"/v1/admin/api-keys/{ids['key']}", None),
        ("GET", "/v1/admin/users/rita", None),
        ("POST", "/v1/admin/groups/sre/members", {"users": ["rita"]}),
        ("POST", "/v1/search", {"query": "cafeteria", "datastore_ids": [ids["datastore"]]}),
        ("POST", "/v1/answer", {"question": "When does the cafeteria open?", "datastore_ids": [ids["datastore"]]}),
        ("POST", "/v1/chat/completions", {"model": ids["datastore"], "messages": [{"role": "user", "content": "hi"}]}),
        (
            "POST",
            "/v1/answer",
            {"question": "And on Sundays?", "datastore_ids": ["ops"], "conversation_id": ids["conversation"]},
        ),
    ]
    for method, url, body in requests:
        response = world.client.request(method, url, json=body, headers=globex)
        assert response.status_code == 404, (method, url, response.text)
    # Globex's own "ops" is empty: its search finds nothing of acme's.
    hits = world.client.post("/v1/search", json={"query": "cafeteria", "datastore_ids": ["ops"]}, headers=globex)
    assert hits.json()["hits"] == []
    assert world.client.get("/v1/datastores/ops", headers=globex).json()["documents"] == 0
    # And acme still has everything.
    assert world.client.get(f"/v1/datastores/ops/documents/{ids['public']}").status_code == 200


def test_revocation_and_disabling_take_effect_on_the_next_request(world: World) -> None:
    client = world.client
    token = add_user(client, "temp", "reader")
    assert client.get("/v1/me", headers=bearer(token)).status_code == 200
    key_id = token.split("_")[1]
    assert client.delete(f"/v1/admin/api-keys/{key_id}").status_code == 204
    assert client.get("/v1/me", headers=bearer(token)).status_code == 401
    other = client.post("/v1/admin/api-keys", json={"user": "temp"}).json()["token"]
    assert client.get("/v1/me", headers=bearer(other)).status_code == 200
    assert client.patch("/v1/admin/users/temp", json={"disabled": True}).status_code == 200
    assert client.get("/v1/me", headers=bearer(other)).status_code == 401
