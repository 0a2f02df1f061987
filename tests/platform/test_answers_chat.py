"""Questions typed the way engineers chat, over real documentation pages through the API (no model): the
extractive answer quotes the page's command as a fenced, cited code block; chat shorthand and the asker's
own service names do not cause refusals; every refusal says why and lists the closest sources, in JSON,
SSE and the OpenAI-compatible endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ..conftest import api_client, make_settings, shared_data

PAGES = ("user-guide/auto_sync.md", "user-guide/sync-options.md", "operator-manual/disaster_recovery.md")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = shared_data("engdocs", "argo-cd-docs", "docs")
    if not root.exists():
        pytest.skip("the Argo CD docs are not available")
    with api_client(make_settings(tmp_path_factory.mktemp("chat") / "data")) as test_client:
        test_client.post("/v1/datastores", json={"name": "argo"})
        jobs = [
            test_client.post(
                "/v1/datastores/argo/documents", files={"file": (Path(page).name, (root / page).read_bytes())}
            ).json()["job"]
            for page in PAGES
        ]
        deadline = time.monotonic() + 120
        for job in jobs:
            while test_client.get(f"/v1/jobs/{job['id']}").json()["status"] != "succeeded":
                assert time.monotonic() < deadline
                time.sleep(0.1)
        yield test_client


def ask(client: TestClient, question: str) -> dict[str, Any]:
    response = client.post("/v1/answer", json={"question": question, "datastore_ids": ["argo"]})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_how_to_answer_quotes_the_command_as_cited_code(client: TestClient) -> None:
    body = ask(client, "how do i turn on auto sync for our payments-svc app via cli")
    assert not body["refused"], body["notice"]
    # the page's command or its manifest, whichever chunk retrieval ranks first, verbatim as a code block
    assert "```bash\nargocd app set <APPNAME> --sync-policy automated\n```" in body["answer"] or (
        "```yaml\nspec:\n  syncPolicy:\n    automated:" in body["answer"]
    )
    code = [c for c in body["claims"] if c["text"].startswith("```")]
    assert code and all(c["supported"] and c["citations"] for c in code)
    assert body["citations"] and body["citations"][0]["source_uri"].endswith("auto_sync.md")


def test_chat_shorthand_and_own_names_are_not_refused(client: TestClient) -> None:
    body = ask(client, "backup + restore all argocd data for DR w/o downtime on team-falcon's k8s cluster")
    assert not body["refused"], body["notice"]
    assert "argocd admin export" in body["answer"]


def test_every_refusal_says_why_and_lists_the_closest_sources(client: TestClient) -> None:
    question = "whats a good recipe for banana bread"
    body = ask(client, question)
    assert body["refused"] and body["notice"], body
    assert body["retrieved"]

    with client.stream(
        "POST", "/v1/answer", json={"question": question, "datastore_ids": ["argo"], "stream": True}
    ) as response:
        lines = list(response.iter_lines())
    done = json.loads(lines[lines.index("event: done") + 1].removeprefix("data: "))
    assert done["refused"] and done["notice"] and done["closest_sources"]
    assert {"title", "source_uri", "heading_path"} <= set(done["closest_sources"][0])

    completion = client.post(
        "/v1/chat/completions", json={"model": "argo", "messages": [{"role": "user", "content": question}]}
    ).json()
    extra = completion["groundwork"]
    assert extra["refused"] and extra["notice"]
