"""Driving the API as several principals: users, keys, documents with ACLs."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_user(admin: TestClient, name: str, role: str = "reader", groups: tuple[str, ...] = ()) -> str:
    """Create a user with the admin client; returns a new API key of it."""
    response = admin.post("/v1/admin/users", json={"name": name, "role": role, "groups": list(groups)})
    assert response.status_code == 201, response.text
    key = admin.post("/v1/admin/api-keys", json={"user": name})
    assert key.status_code == 201, key.text
    token: str = key.json()["token"]
    return token


def add_group(admin: TestClient, name: str) -> None:
    response = admin.post("/v1/admin/groups", json={"name": name})
    assert response.status_code == 201, response.text


def upload(
    client: TestClient,
    datastore: str,
    name: str,
    text: str,
    acl: Any = None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    form = {} if acl is None else {"acl": json.dumps(acl)}
    if title is not None:
        form["title"] = title
    response = client.post(
        f"/v1/datastores/{datastore}/documents",
        files={"file": (name, text.encode(), "text/markdown")},
        data=form,
        headers=headers,
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_job(
    client: TestClient, job_id: str, timeout: float = 120, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "completed_with_errors"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")
