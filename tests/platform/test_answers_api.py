"""The answer flow over the API without a language model: retrieval, the relevance gate, the extractive
answer (cited, verified), refusal, conversations, SSE and the OpenAI-compatible endpoint with the official
`openai` client. The same flow on the real vLLM server is in test_answers_vllm.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from groundwork.platform.config import AnswersConfig

from ..conftest import api_client, make_settings

RUNBOOK = b"""# Database operations

## Backups

The metadata database is backed up every night at 02:00 UTC. Backups are kept for 30 days in the
groundwork-backups bucket.

## Restores

To restore a backup, stop the API servers, run groundwork restore with the snapshot name, then start the
servers again. A restore of a 10 GB database takes about 12 minutes.
"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with api_client(make_settings(tmp_path / "data")) as test_client:
        ingest_runbook(test_client)
        yield test_client


def ingest_runbook(client: TestClient) -> None:
    client.post("/v1/datastores", json={"name": "ops"})
    job = client.post("/v1/datastores/ops/documents", files={"file": ("runbook.md", RUNBOOK)}).json()["job"]
    deadline = time.monotonic() + 60
    while client.get(f"/v1/jobs/{job['id']}").json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def ask(client: TestClient, question: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/answer", json={"question": question, "datastore_ids": ["ops"], **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_without_a_model_the_answer_quotes_and_cites_the_sources(client: TestClient) -> None:
    body = ask(client, "When is the metadata database backed up?")
    assert body["mode"] == "extractive" and not body["refused"]
    assert "language model" in body["notice"]
    assert "02:00 UTC" in body["answer"] and "[1]" in body["answer"]
    citation = body["citations"][0]
    assert citation["number"] == 1 and citation["heading_path"] == ["Database operations", "Backups"]
    assert "02:00 UTC" in citation["quote"] and citation["source_uri"] == "upload://runbook.md"
    assert body["claims"] and all(claim["supported"] for claim in body["claims"])
    assert body["retrieved"] and body["timings_ms"]["total_ms"] > 0


def test_an_unrelated_question_is_refused_with_the_closest_sources(client: TestClient) -> None:
    body = ask(client, "What is the capital of Australia?")
    assert body["refused"] and body["mode"] == "refusal"
    assert body["answer"] == "The documents don't answer this question."
    assert body["citations"] == []
    assert body["retrieved"], "the closest sources are still listed"


def test_a_question_using_a_word_no_document_contains_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", answers=AnswersConfig(vocabulary_min_chunks=1))
    with api_client(settings) as client:
        ingest_runbook(client)
        body = ask(client, "How long are backups kept in cold storage?")
        assert body["refused"] and body["notice"] == "The documents never mention 'cold', 'storage'."
        assert body["retrieved"], "the closest sources are still listed"
        assert not ask(client, "How long are backups kept?")["refused"]


def test_follow_ups_are_rewritten_and_conversations_are_stored(client: TestClient) -> None:
    first = ask(client, "How long are backups kept?")
    follow = ask(client, "and how long does it take to restore one?", conversation_id=first["conversation_id"])
    assert follow["conversation_id"] == first["conversation_id"]
    assert "backups" in follow["standalone_query"].lower()
    conversations = client.get("/v1/conversations").json()["items"]
    assert [c["id"] for c in conversations] == [first["conversation_id"]]
    detail = client.get(f"/v1/conversations/{first['conversation_id']}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    missing = client.post("/v1/answer", json={"question": "x", "datastore_ids": ["ops"], "conversation_id": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_streamed_answer_sends_every_event(client: TestClient) -> None:
    with client.stream(
        "POST", "/v1/answer", json={"question": "Where are backups kept?", "datastore_ids": ["ops"], "stream": True}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event: ")]
    assert events[0] == "retrieval" and events[-1] == "done"
    assert "claim" in events and set(events) <= {"retrieval", "notice", "claim", "done"}, events


def test_openai_client_talks_to_the_rag_agent(client: TestClient) -> None:
    from openai import OpenAI

    key = client.headers["Authorization"].removeprefix("Bearer ")  # OpenAI clients send their api_key as a bearer
    openai_client = OpenAI(base_url="http://testserver/v1", api_key=key, http_client=client)
    completion = openai_client.chat.completions.create(
        model="ops", messages=[{"role": "user", "content": "When is the metadata database backed up?"}]
    )
    assert "02:00 UTC" in (completion.choices[0].message.content or "")
    extra = completion.model_extra or {}
    assert extra["groundwork"]["citations"][0]["source_uri"] == "upload://runbook.md"
    assert extra["groundwork"]["refused"] is False

    stream = openai_client.chat.completions.create(
        model="ops", messages=[{"role": "user", "content": "How long are backups kept?"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "30 days" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert json.dumps((chunks[-1].model_extra or {})["groundwork"]["citations"])
