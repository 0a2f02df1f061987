"""Robustness (#15): batch uploads as one job, hostile files refused or parsed within limits while another
datastore's document is indexed, jobs that reveal no hidden document, bad filters and file names answered
with documented codes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from groundwork.ingestion.hostile import corpus
from groundwork.platform.config import AccessConfig, IngestionConfig, Settings
from tests.access.helpers import add_group, add_user, bearer
from tests.conftest import api_client, make_settings

HOSTILE_CODES = {
    "document_too_large",
    "unsupported_content",
    "parse_timeout",
    "parser_crashed",
    "corrupt_document",
    "no_text_layer",
    "empty_document",
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("robust") / "data",
        ingestion=IngestionConfig(
            workers=2,
            batch_size=8,
            max_extracted_chars=200_000,
            max_decompressed_bytes=32 * 1024 * 1024,
            parse_timeout_seconds=20,
        ),
        access=AccessConfig(rate_limit_per_minute=0),
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with api_client(settings) as client:
        for name in ("hostile", "small", "bulk", "secrets"):
            assert client.post("/v1/datastores", json={"name": name}).status_code == 201
        yield client


def wait_job(client: TestClient, job_id: str, timeout: float = 120, **kwargs: Any) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", **kwargs).json()
        if job.get("finished_at"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def batch(client: TestClient, datastore: str, files: list[tuple[str, bytes]], manifest: Any = None) -> Any:
    data = {} if manifest is None else {"manifest": json.dumps(manifest)}
    return client.post(
        f"/v1/datastores/{datastore}/documents/batch",
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
        data=data,
    )


def test_a_batch_is_one_job_and_refuses_bad_files_alone(client: TestClient) -> None:
    files = [(f"notes/{i}.md", f"# Note {i}\n\nThe rotation period is {i} days.\n".encode()) for i in range(40)]
    files += [("blob.md", bytes(range(256)) * 64), ("empty.txt", b""), ("image.png", b"\x89PNG\r\n\x1a\n\x00")]
    manifest: list[Any] = [None] * len(files)
    manifest[0] = {"source_uri": "file:///notes/0.md", "metadata": {"team": "sre"}, "title": "First"}
    response = batch(client, "bulk", files, manifest)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["job"]["total"] == 40 and len(body["documents"]) == 40
    refused = {r["filename"]: r["code"] for r in body["refused"]}
    assert refused == {
        "blob.md": "unsupported_content",
        "empty.txt": "invalid_request",
        "image.png": "unsupported_format",
    }
    job = wait_job(client, body["job"]["id"])
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", 40, 0)
    first = client.get(f"/v1/datastores/bulk/documents/{body['documents'][0]['document_id']}").json()
    assert (first["source_uri"], first["title"], first["metadata"]["team"]) == ("file:///notes/0.md", "First", "sre")

    again = batch(client, "bulk", files[1:40]).json()  # the same bytes again: nothing to do
    assert again["job"]["status"] == "succeeded"


def test_batch_errors_have_documented_codes(client: TestClient, settings: Settings) -> None:
    def code(response: Any) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    assert code(client.post("/v1/datastores/bulk/documents/batch", data={"x": "1"})) == (400, "invalid_request")
    assert code(batch(client, "bulk", [("a.md", b"# a")], manifest={"a": 1})) == (400, "invalid_request")
    many = [(f"{i}.md", b"# x") for i in range(settings.ingestion.max_batch_files + 1)]
    assert code(batch(client, "bulk", many)) == (413, "too_many_files")
    assert code(batch(client, "missing", [("a.md", b"# a")])) == (404, "not_found")
    newline = client.post(
        "/v1/datastores/bulk/documents", files={"file": ("a.md", b"# a")}, data={"source_uri": "upload://a\nb.md"}
    )
    assert code(newline) == (400, "invalid_request"), newline.text
    raw = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\nb.md"\r\n\r\n# a\r\n--b--\r\n'
    broken = client.post(
        "/v1/datastores/bulk/documents", content=raw, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert broken.status_code < 500 and broken.json()["error"]["code"] in {"invalid_request"}, broken.text


def test_hostile_files_fail_within_limits_while_another_datastore_is_indexed(client: TestClient) -> None:
    files = [(name, make()) for name, make in corpus(scale=0.05).items()]
    hostile = batch(client, "hostile", files)
    assert hostile.status_code == 202, hostile.text
    refused = {r["filename"] for r in hostile.json()["refused"]}
    assert {"random.md", "random.txt", "random.html"} <= refused
    started = time.monotonic()
    small = client.post("/v1/datastores/small/documents", files={"file": ("ok.md", b"# Fine\n\nSmall and fine.")})
    job = wait_job(client, small.json()["job"]["id"], timeout=30)
    assert job["status"] == "succeeded" and time.monotonic() - started < 10

    wait_job(client, hostile.json()["job"]["id"])
    documents = client.get("/v1/datastores/hostile/documents").json()["items"]
    outcomes = {Path(d["source_uri"]).name: (d["status"], d["failure_code"]) for d in documents}
    assert len(outcomes) == len(files) - len(refused)
    for name, (status, failure) in outcomes.items():
        assert status == "indexed" or failure in HOSTILE_CODES, (name, status, failure)
    for name in ("bomb.docx", "huge.txt", "stream-bomb.pdf"):
        assert outcomes[name] == ("failed", "document_too_large"), (name, outcomes[name])


def test_a_job_with_a_hidden_document_is_not_found(client: TestClient) -> None:
    editor = add_user(client, "robust-editor", role="editor")
    add_group(client, "board")
    me = client.get("/v1/me").json()["name"]
    hidden = client.post(
        "/v1/datastores/secrets/documents",
        files={"file": ("plan.md", b"# Plan\n\nSecret.")},
        data={"acl": json.dumps({"groups": ["board"], "users": [me]})},
    )
    assert hidden.status_code == 202, hidden.text
    hidden = hidden.json()
    assert client.get(f"/v1/jobs/{hidden['job']['id']}").status_code == 200
    for path in ("", "/documents", "/failures"):
        response = client.get(f"/v1/jobs/{hidden['job']['id']}{path}", headers=bearer(editor))
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "value", [{"$gt": 1}, [{"a": 1}], 2**80, "a\x00b", float("inf")], ids=["object", "list", "big", "nul", "inf"]
)
def test_a_filter_with_a_value_no_column_holds_is_400(client: TestClient, value: Any) -> None:
    op = "in" if isinstance(value, list) else "eq"
    body = json.dumps({"query": "x", "datastore_ids": ["bulk"], "filters": [{"key": "team", "op": op, "value": value}]})
    response = client.post("/v1/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_deleting_a_document_stops_its_parsing(client: TestClient) -> None:
    from groundwork.ingestion.hostile import deep_html

    assert client.post("/v1/datastores", json={"name": "cancel"}).status_code == 201
    files = [("slow.html", deep_html(300_000)), ("after.md", b"# After\n\nIndexed once the slow one is gone.")]
    body = batch(client, "cancel", files).json()
    slow, after = (d["document_id"] for d in body["documents"])
    deadline = time.monotonic() + 20
    while client.get(f"/v1/datastores/cancel/documents/{slow}").json()["status"] != "parsing":
        assert time.monotonic() < deadline, "the slow document never started parsing"
        time.sleep(0.05)
    deleted_at = time.monotonic()
    assert client.delete(f"/v1/datastores/cancel/documents/{slow}").status_code == 204
    job = wait_job(client, body["job"]["id"], timeout=30)
    assert time.monotonic() - deleted_at < 8  # not the 20 s parse timeout
    assert job["done"] == 2 and client.get(f"/v1/datastores/cancel/documents/{after}").json()["status"] == "indexed"


def test_an_upload_colliding_with_a_hidden_document_behaves_as_if_there_were_none(client: TestClient) -> None:
    editor = add_user(client, "collider", role="editor")
    me = client.get("/v1/me").json()["name"]
    acl = {"data": {"acl": json.dumps({"users": [me]})}}
    hidden = client.post("/v1/datastores/secrets/documents", files={"file": ("merger.md", b"# M\n\nHidden.")}, **acl)
    assert hidden.status_code == 202
    wait_job(client, hidden.json()["job"]["id"])
    hidden_id = hidden.json()["document_id"]

    def upload_as_editor(name: str) -> Any:
        response = client.post(
            "/v1/datastores/secrets/documents",
            files={"file": (name, b"# Mine\n\nThe editor's own text.")},
            headers=bearer(editor),
        )
        assert response.status_code == 202, response.text
        return response.json()

    colliding, fresh = upload_as_editor("merger.md"), upload_as_editor("unknown-name.md")
    assert colliding.keys() == fresh.keys() and colliding["document_id"] != hidden_id
    for body in (colliding, fresh):
        job = wait_job(client, body["job"]["id"], headers=bearer(editor))
        assert (job["status"], job["done"]) == ("succeeded", 1)
        own = client.get(f"/v1/datastores/secrets/documents/{body['document_id']}", headers=bearer(editor)).json()
        assert own["status"] == "indexed"
    assert (
        client.get(f"/v1/datastores/secrets/documents/{colliding['document_id']}", headers=bearer(editor)).json()[
            "source_uri"
        ]
        == "upload://merger.md"
    )
    untouched = client.get(f"/v1/datastores/secrets/documents/{hidden_id}").json()
    assert (untouched["version"], untouched["status"]) == (1, "indexed")
    assert client.get(f"/v1/datastores/secrets/documents/{hidden_id}", headers=bearer(editor)).status_code == 404
