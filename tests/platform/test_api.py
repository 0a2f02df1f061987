"""The REST API end to end: real model, real indexes, in-process workers, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from groundwork.platform.config import DatabaseConfig, IngestionConfig

from ..conftest import OPERATOR, api_client, make_settings, shared_data

GUIDE = b"""---
title: Operator guide
team: platform
---
# Operator guide

## Backups

Snapshots of the metadata database are taken every night at 02:00 UTC and kept for 30 days.

## Upgrades

Upgrades roll one replica at a time; the readiness probe gates traffic.
"""


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path / "data",
        database=DatabaseConfig(url=database_url),
        ingestion=IngestionConfig(workers=1, batch_size=4, max_upload_bytes=1_000_000),
    )
    with api_client(settings) as test_client:
        yield test_client


def wait_job(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "completed_with_errors"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def upload(client: TestClient, name: str, data: bytes, **form: str) -> dict[str, Any]:
    response = client.post("/v1/datastores/ops/documents", files={"file": (name, data)}, data=form)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def search(client: TestClient, query: str, **extra: Any) -> list[dict[str, Any]]:
    response = client.post("/v1/search", json={"query": query, "datastore_ids": ["ops"], **extra})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


def test_upload_index_search_update_delete(client: TestClient) -> None:
    assert client.post("/v1/datastores", json={"name": "ops"}).status_code == 201
    accepted = upload(client, "guide.md", GUIDE, metadata=json.dumps({"year": 2026}))
    job = wait_job(client, accepted["job"]["id"])
    assert (job["done"], job["total"], job["progress"]) == (1, 1, 1.0)
    document = client.get(f"/v1/datastores/ops/documents/{accepted['document_id']}").json()
    assert document["status"] == "indexed"
    assert document["title"] == "Operator guide"
    assert document["metadata"] == {"title": "Operator guide", "team": "platform", "year": 2026}

    hits = search(client, "when are database snapshots taken?", top_k=3)
    top = hits[0]
    assert "02:00 UTC" in top["text"]
    assert top["heading_path"] == ["Operator guide", "Backups"]
    assert top["title"] == "Operator guide" and top["source_uri"] == "upload://guide.md"
    assert top["end_offset"] > top["start_offset"] >= 0
    for mode in ("dense", "lexical"):
        assert "02:00" in search(client, "nightly snapshots backups", mode=mode)[0]["text"]

    # Same bytes again: a no-op that creates no new version.
    again = upload(client, "guide.md", GUIDE)
    assert wait_job(client, again["job"]["id"])["done"] == 1
    assert client.get(f"/v1/datastores/ops/documents/{accepted['document_id']}").json()["version"] == 1

    # Changed content replaces the old chunks.
    changed = GUIDE.replace(b"02:00 UTC", b"04:30 UTC")
    wait_job(client, upload(client, "guide.md", changed)["job"]["id"])
    texts = " ".join(h["text"] for h in search(client, "snapshots taken every night", top_k=10))
    assert "04:30 UTC" in texts and "02:00 UTC" not in texts
    assert client.get(f"/v1/datastores/ops/documents/{accepted['document_id']}").json()["version"] == 2

    assert client.delete(f"/v1/datastores/ops/documents/{accepted['document_id']}").status_code == 204
    assert search(client, "snapshots taken every night") == []
    stats = client.get("/v1/datastores/ops").json()
    assert (stats["documents"], stats["chunks"]) == (0, 0)


def test_filters_apply_before_ranking(client: TestClient) -> None:
    client.post("/v1/datastores", json={"name": "ops"})
    jobs = [
        upload(
            client,
            f"team-{i}.md",
            f"# Runbook {i}\n\nRestart the ingestion worker of team {i}.".encode(),
            metadata=json.dumps({"team": f"t{i}", "priority": i}),
        )["job"]["id"]
        for i in range(6)
    ]
    for job_id in jobs:
        wait_job(client, job_id)
    only = search(client, "restart worker", filters=[{"key": "team", "op": "eq", "value": "t4"}])
    assert [h["metadata"]["team"] for h in only] == ["t4"]
    ranged = search(client, "restart worker", top_k=10, filters=[{"key": "priority", "op": "gte", "value": 3}])
    assert sorted(h["metadata"]["priority"] for h in ranged) == [3, 4, 5]
    listed = search(client, "restart", filters=[{"key": "team", "op": "in", "value": ["t1", "t2"]}], mode="lexical")
    assert sorted(h["metadata"]["team"] for h in listed) == ["t1", "t2"]


def test_bad_input_gets_a_clear_error_and_changes_nothing(client: TestClient) -> None:
    client.post("/v1/datastores", json={"name": "ops"})
    wait_job(client, upload(client, "guide.md", GUIDE)["job"]["id"])

    def error(response: Any, status: int, code: str) -> None:
        assert response.status_code == status, response.text
        body = response.json()["error"]
        assert body["code"] == code and body["message"] and body["request_id"]

    files = {"file": ("big.txt", b"x" * 1_000_001)}
    error(client.post("/v1/datastores/ops/documents", files=files), 413, "file_too_large")
    error(
        client.post("/v1/datastores/ops/documents", files={"file": ("img.png", b"\x89PNG\r\n\x1a\n\x00\xff")}),
        415,
        "unsupported_format",
    )
    error(
        client.post("/v1/datastores/ops/documents", files={"file": ("a.md", b"# x")}, data={"metadata": "[1"}),
        400,
        "invalid_request",
    )
    error(client.post("/v1/datastores/missing/documents", files={"file": ("a.md", b"# x")}), 404, "not_found")
    error(client.post("/v1/search", json={"query": "x"}), 422, "invalid_request")
    error(client.post("/v1/search", json={"query": "x", "datastore_ids": ["nope"]}), 404, "not_found")
    error(client.post("/v1/datastores", json={"name": "ops"}), 409, "conflict")
    error(client.post("/v1/datastores", json={"name": "bad name!"}), 400, "invalid_request")
    error(client.get("/v1/jobs/unknown"), 404, "not_found")

    # A scanned PDF is accepted, then fails alone with a reason; the datastore is otherwise untouched.
    scanned = shared_data("parser-docs", "unstructured", "pdf", "single_table.pdf").read_bytes()
    job = wait_job(client, upload(client, "scan.pdf", scanned)["job"]["id"])
    assert (job["status"], job["failed"]) == ("completed_with_errors", 1)
    failures = client.get(f"/v1/jobs/{job['id']}/failures").json()
    assert failures[0]["failure_code"] == "no_text_layer"
    listing = client.get("/v1/datastores/ops/documents").json()
    assert listing["total"] == 2
    assert sorted(d["status"] for d in listing["items"]) == ["failed", "indexed"]
    assert "02:00" in search(client, "database snapshots")[0]["text"]


def test_real_pdf_and_docx_keep_pages_and_headings(client: TestClient) -> None:
    client.post("/v1/datastores", json={"name": "ops"})
    pdf = shared_data("parser-docs", "docling", "pdf", "sources", "normal_4pages.pdf")
    docx = shared_data("parser-docs", "docling", "docx", "sources", "unit_test_headers.docx")
    for path in (pdf, docx):
        wait_job(client, upload(client, path.name, path.read_bytes())["job"]["id"])
    statuses = {d["source_uri"]: d for d in client.get("/v1/datastores/ops/documents").json()["items"]}
    assert statuses["upload://normal_4pages.pdf"]["status"] == "indexed"
    assert statuses["upload://normal_4pages.pdf"]["page_count"] == 4
    assert statuses["upload://unit_test_headers.docx"]["status"] == "indexed"
    pdf_hits = search(
        client,
        "introduction",
        top_k=20,
        filters=[{"key": "mime_type", "op": "eq", "value": "application/pdf"}],
    )
    assert pdf_hits and all(h["page"] is not None and 1 <= h["page"] <= 4 for h in pdf_hits)
    docx_hits = search(
        client,
        "section",
        top_k=20,
        filters=[
            {"key": "title", "op": "ne", "value": ""},
            {
                "key": "mime_type",
                "op": "in",
                "value": ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
            },
        ],
    )
    assert any(h["heading_path"] for h in docx_hits)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "language_model": "unavailable"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/search",
        "/v1/datastores",
        "/v1/datastores/{datastore}/documents",
        "/v1/jobs/{job_id}",
    } <= set(paths)


def test_a_new_job_takes_over_documents_still_queued(tmp_path: Path) -> None:
    """After a crash, re-submitting documents still queued must not report them done before they are."""
    from sqlalchemy import update

    from groundwork.platform.db.models import Document, Job
    from groundwork.platform.documents import NewDocument
    from groundwork.platform.services import build_services

    settings = make_settings(tmp_path / "data")
    items = [NewDocument(f"upload://{i}.md", f"{i}.md", f"# Doc {i}\n\nbody {i}".encode()) for i in range(3)]
    services = build_services(settings, owner="pytest")
    try:
        datastore_id = services.documents.create_datastore(OPERATOR, "ops").id
        crashed = services.documents.submit(OPERATOR, datastore_id, items).job
        services.queue.wait_idle(60)
        with services.database.session() as session:  # the state a SIGKILL mid-job leaves
            session.execute(update(Document).values(status="queued", indexed_hash=None))
            session.execute(update(Job).values(status="running", done=0, finished_at=None))
    finally:
        services.close()

    services = build_services(settings, owner="pytest", recover=False)
    try:
        again = services.documents.submit(OPERATOR, datastore_id, items).job
        assert (again.status, again.done, again.total) == ("queued", 0, 3)
        assert services.documents.get_job(OPERATOR, crashed.id).status == "succeeded"  # it no longer waits for them
        assert services.documents.recover() == 3
        services.queue.wait_idle(60)
        final = services.documents.get_job(OPERATOR, again.id)
        assert (final.status, final.done, final.total) == ("succeeded", 3, 3)
    finally:
        services.close()
