"""Paths that show content besides search and answers: source previews, original files, conversations (owned by
their principal; answers citing a document the reader lost access to are withheld), feedback, the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from ..conftest import api_client, make_settings
from .helpers import add_group, add_user, bearer, upload, wait_job

RUNBOOK = """# Operator runbook

## Backups

Snapshots of the metadata database are taken every night at 02:00 UTC and kept for 30 days.

## Restores

To restore a backup, stop the API servers, run groundwork restore with the snapshot name, then start the
servers again. A restore of a 10 GB database takes about 12 minutes.

## Upgrades

Upgrades roll one replica at a time; the readiness probe gates traffic.
"""


@dataclass
class Setup:
    client: TestClient
    ana: dict[str, str]
    bo: dict[str, str]
    document_id: str


@pytest.fixture
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with api_client(make_settings(tmp_path_factory.mktemp("reading") / "data")) as client:
        add_group(client, "sre")
        ana = bearer(add_user(client, "ana", "reader", ("sre",)))
        bo = bearer(add_user(client, "bo", "reader"))
        client.post("/v1/datastores", json={"name": "ops"})
        accepted = upload(client, "ops", "runbook.md", RUNBOOK, {"groups": ["sre"]})
        wait_job(client, accepted["job"]["id"])
        yield Setup(client, ana, bo, accepted["document_id"])


def test_a_preview_highlights_the_passage_in_its_surrounding_text(setup: Setup) -> None:
    client = setup.client
    hits = client.post(
        "/v1/search", json={"query": "how long does a restore take", "datastore_ids": ["ops"]}, headers=setup.ana
    ).json()["hits"]
    hit = next(h for h in hits if "12 minutes" in h["text"])
    url = f"/v1/datastores/ops/documents/{setup.document_id}/preview?chunk_id={hit['chunk_id']}&context_chars=200"
    preview = client.get(url, headers=setup.ana).json()
    assert preview["text"][preview["highlight_start"] : preview["highlight_end"]] == hit["text"]
    assert preview["highlight_start"] > 0, "text before the passage is shown"
    assert preview["heading_path"] == hit["heading_path"] and preview["title"] == "Operator runbook"
    assert client.get(url, headers=setup.bo).status_code == 404
    file = client.get(f"/v1/datastores/ops/documents/{setup.document_id}/file", headers=setup.ana)
    assert file.content == RUNBOOK.encode()
    assert file.headers["content-disposition"].startswith("attachment;")
    assert file.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/v1/datastores/ops/documents/{setup.document_id}/file", headers=setup.bo).status_code == 404


def test_conversations_belong_to_their_principal_and_withhold_answers_after_revocation(setup: Setup) -> None:
    client = setup.client
    question = {"question": "How long are backups kept?", "datastore_ids": ["ops"]}
    answer = client.post("/v1/answer", json=question, headers=setup.ana).json()
    assert "30 days" in answer["answer"] and answer["message_id"]
    conversation = answer["conversation_id"]
    follow_up = {
        "question": "and how long does it take to restore one?",
        "datastore_ids": ["ops"],
        "conversation_id": conversation,
    }
    followed = client.post("/v1/answer", json=follow_up, headers=setup.ana).json()
    assert "backups" in followed["standalone_query"].lower() and "12 minutes" in followed["answer"]

    for method, path, body in (
        ("GET", f"/v1/conversations/{conversation}", None),
        ("PATCH", f"/v1/conversations/{conversation}", {"title": "taken over"}),
        ("DELETE", f"/v1/conversations/{conversation}", None),
        ("POST", f"/v1/conversations/{conversation}/messages/{answer['message_id']}/feedback", {"rating": -1}),
        ("POST", "/v1/answer", {**follow_up, "question": "And restores?"}),
    ):
        assert client.request(method, path, json=body, headers=setup.bo).status_code == 404, (method, path)
    assert client.get("/v1/conversations", headers=setup.bo).json()["items"] == []

    feedback = client.post(
        f"/v1/conversations/{conversation}/messages/{answer['message_id']}/feedback",
        json={"rating": 1, "comment": "exactly right"},
        headers=setup.ana,
    )
    assert feedback.status_code == 201, feedback.text
    assert (
        client.patch(f"/v1/conversations/{conversation}", json={"title": "Backups"}, headers=setup.ana).json()["title"]
        == "Backups"
    )
    history = client.get(f"/v1/conversations/{conversation}", headers=setup.ana).json()
    assistant = [m for m in history["messages"] if m["role"] == "assistant"]
    assert "30 days" in assistant[0]["content"] and assistant[0]["feedback"] == {
        "rating": 1,
        "comment": "exactly right",
    }

    # Ana leaves the group: her stored answers that cite the runbook are withheld, her questions stay.
    assert client.delete("/v1/admin/groups/sre/members/ana").status_code == 204
    history = client.get(f"/v1/conversations/{conversation}", headers=setup.ana).json()
    assistant = [m for m in history["messages"] if m["role"] == "assistant"]
    assert all(m["withheld"] and "30 days" not in m["content"] and m["details"] == {} for m in assistant)
    assert next(m["content"] for m in history["messages"] if m["role"] == "user") == question["question"]
    assert client.delete(f"/v1/conversations/{conversation}", headers=setup.ana).status_code == 204
    assert client.get(f"/v1/conversations/{conversation}", headers=setup.ana).status_code == 404


def test_the_audit_log_says_who_asked_what_without_showing_what_the_admin_may_not_read(setup: Setup) -> None:
    client = setup.client
    client.post("/v1/search", json={"query": "restore duration", "datastore_ids": ["ops"]}, headers=setup.ana)
    client.post(
        "/v1/answer", json={"question": "When are snapshots taken?", "datastore_ids": ["ops"]}, headers=setup.ana
    )
    entries = client.get("/v1/admin/audit?actor=ana").json()
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["answer", "search"]
    for entry in entries[:2]:
        # The admin is not in sre: the runbook is restricted for them, so its title and the query are withheld.
        assert entry["shown"] and all(d["restricted"] and d["title"] is None for d in entry["shown"])
        assert entry["query"] is None and entry["query_withheld"]
    assert entries[0]["cited"] == [{"id": setup.document_id, "title": None, "restricted": True}]
    # Once the admin may read it, the same entries show the title and the query.
    assert client.post("/v1/admin/groups/sre/members", json={"users": ["admin"]}).status_code == 204
    entries = client.get("/v1/admin/audit?actor=ana&action=search").json()
    assert entries[0]["query"] == "restore duration"
    assert entries[0]["shown"][0]["title"] == "Operator runbook"
    assert client.get("/v1/admin/audit", headers=setup.ana).status_code == 403
