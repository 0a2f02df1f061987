"""Syncing a datastore with a `gs://` prefix (on the GCS emulator) and with a local folder, end to end: the
whole ingestion pipeline runs with its blobs in GCS, and searches see what the sync changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import storage
from sqlalchemy import select

from groundwork.platform.config import IngestionConfig
from groundwork.platform.db.models import Chunk, Document, DocumentStatus
from groundwork.platform.errors import InvalidRequestError, NotFoundError
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import Services
from groundwork.platform.sync import FINGERPRINT_KEY, SyncService, parse_gs_uri
from groundwork.retrieval.types import SearchMode
from tests.conftest import OPERATOR, shared_data

from .conftest import new_bucket

pytestmark = pytest.mark.integration

# Small real pages of the Dapr docs, read where they lie (never copied into the repository).
DAPR = ("dapr-docs", "daprdocs", "content", "en", "developing-applications")
GITHUB_ACTIONS = ("integrations", "github_actions.md")
KRATIX = ("integrations", "kratix-marketplace.md")
MIDDLEWARE = ("develop-components", "develop-middleware.md")
K8S_OPERATOR = ("integrations", "kubernetes-operator.md")


def dapr_page(*parts: str) -> bytes:
    return shared_data("engdocs", *DAPR, *parts).read_bytes()


def sync_service(services: Services) -> SyncService:
    return SyncService(services.database, services.documents, services.settings)


def documents_by_uri(services: Services, datastore_id: str) -> dict[str, Document]:
    with services.database.session() as session:
        return {d.source_uri: d for d in session.scalars(select(Document).where(Document.datastore_id == datastore_id))}


def hit_uris(services: Services, datastore_id: str, query: str, mode: SearchMode) -> list[str]:
    result = services.search.search(
        SearchQuery(query=query, datastore_ids=[datastore_id], top_k=10, mode=mode), OPERATOR
    )
    return [hit.source_uri for hit in result.hits]


def assert_indexes_match_metadata(services: Services, datastore_id: str) -> None:
    with services.database.session() as session:
        chunk_ids = set(session.scalars(select(Chunk.id).where(Chunk.datastore_id == datastore_id)))
    index = services.indexes.get(datastore_id)
    assert index.vector_count == index.lexical_count == len(chunk_ids)
    assert set(index.vector_ids().tolist()) == chunk_ids


def test_gcs_prefix_sync_ingests_updates_and_deletes(gcs_services: Services, gcs_client: storage.Client) -> None:
    services = gcs_services
    source_bucket = gcs_client.bucket(new_bucket(gcs_client))
    root = f"gs://{source_bucket.name}/dapr"
    for name, data in {
        "dapr/integrations/github_actions.md": dapr_page(*GITHUB_ACTIONS),
        "dapr/integrations/kratix-marketplace.md": dapr_page(*KRATIX),
        "dapr/components/develop-middleware.md": dapr_page(*MIDDLEWARE),
        "dapr/drafts/wip.md": b"# Work in progress\n\nThe quokka protocol is undecided.\n",  # excluded
        "dapr/empty.md": b"",  # refused: empty
        "dapr-old/outside.md": b"# Outside\n\nNot below the prefix folder.\n",
        "other/outside.md": b"# Outside\n\nNot below the prefix.\n",
    }.items():
        source_bucket.blob(name).upload_from_string(data)
    datastore_id = services.documents.create_datastore(OPERATOR, "dapr").id
    sync = sync_service(services)

    first = sync.sync(OPERATOR, datastore_id, root, exclude=["drafts/*"])
    assert services.queue.wait_idle(timeout=120)
    assert (first.listed, first.selected, first.unchanged, first.submitted, first.deleted) == (5, 4, 0, 3, 0)
    assert first.rejected and first.rejected[0][0] == f"{root}/empty.md"
    documents = documents_by_uri(services, datastore_id)
    assert set(documents) == {
        f"{root}/integrations/github_actions.md",
        f"{root}/integrations/kratix-marketplace.md",
        f"{root}/components/develop-middleware.md",
    }
    assert all(d.status == DocumentStatus.INDEXED for d in documents.values()), [
        (d.source_uri, d.status, d.failure_reason) for d in documents.values()
    ]
    metadata = documents[f"{root}/integrations/github_actions.md"].metadata_json  # front matter merged in
    assert metadata["path"] == "integrations/github_actions.md"
    assert metadata[FINGERPRINT_KEY] == "md5:" + str(
        source_bucket.get_blob("dapr/integrations/github_actions.md").md5_hash
    )
    hits = hit_uris(services, datastore_id, "install the Dapr CLI in a GitHub Actions workflow", SearchMode.HYBRID)
    assert hits[0] == f"{root}/integrations/github_actions.md"
    assert f"{root}/components/develop-middleware.md" in hit_uris(
        services, datastore_id, "middleware pipeline", SearchMode.LEXICAL
    )
    # The bytes the pipeline parsed came from the blob store's bucket.
    blob_bucket = services.settings.storage.gcs_bucket
    stored = {b.name for b in gcs_client.list_blobs(blob_bucket)}
    assert {f"groundwork/{d.blob_key}" for d in documents.values()} <= stored

    # Change one, delete one, add one; leave one alone.
    source_bucket.blob("dapr/integrations/kratix-marketplace.md").upload_from_string(
        dapr_page(*KRATIX) + b"\n## Rotation\n\nRotate the promise keys on the zebraquartz schedule.\n"
    )
    source_bucket.blob("dapr/components/develop-middleware.md").delete()
    source_bucket.blob("dapr/integrations/kubernetes-operator.md").upload_from_string(dapr_page(*K8S_OPERATOR))
    before = documents
    deleted = before[f"{root}/components/develop-middleware.md"]

    second = sync.sync(OPERATOR, datastore_id, root, exclude=["drafts/*"])
    assert services.queue.wait_idle(timeout=120)
    assert (second.listed, second.selected, second.unchanged, second.submitted, second.deleted) == (5, 4, 1, 2, 1)
    after = documents_by_uri(services, datastore_id)
    assert set(after) == {
        f"{root}/integrations/github_actions.md",
        f"{root}/integrations/kratix-marketplace.md",
        f"{root}/integrations/kubernetes-operator.md",
    }
    assert all(d.status == DocumentStatus.INDEXED for d in after.values())
    unchanged = after[f"{root}/integrations/github_actions.md"]
    original = before[f"{root}/integrations/github_actions.md"]
    assert (unchanged.id, unchanged.version, unchanged.indexed_at) == (original.id, 1, original.indexed_at)
    changed = after[f"{root}/integrations/kratix-marketplace.md"]
    assert changed.id == before[changed.source_uri].id and changed.version == 2
    assert hit_uris(services, datastore_id, "zebraquartz", SearchMode.LEXICAL) == [changed.source_uri]
    assert hit_uris(services, datastore_id, "Kubernetes operator for Dapr", SearchMode.HYBRID)[0] == (
        f"{root}/integrations/kubernetes-operator.md"
    )
    for mode in SearchMode:
        assert deleted.source_uri not in hit_uris(services, datastore_id, "middleware pipeline", mode)
    with pytest.raises(NotFoundError):
        services.documents.get_document(OPERATOR, datastore_id, deleted.id)
    assert not [b.name for b in gcs_client.list_blobs(blob_bucket, prefix=f"groundwork/{deleted.blob_key}")]
    assert_indexes_match_metadata(services, datastore_id)

    # Nothing changed: nothing is downloaded, submitted or deleted.
    third = sync.sync(OPERATOR, datastore_id, root, exclude=["drafts/*"])
    assert (third.unchanged, third.submitted, third.deleted, third.job_ids) == (3, 0, 0, [])


def test_sync_without_delete_keeps_documents_of_removed_objects(
    gcs_services: Services, gcs_client: storage.Client
) -> None:
    services = gcs_services
    source_bucket = gcs_client.bucket(new_bucket(gcs_client))
    source_bucket.blob("a.md").upload_from_string(dapr_page(*K8S_OPERATOR))
    datastore_id = services.documents.create_datastore(OPERATOR, "keep").id
    sync = sync_service(services)
    sync.sync(OPERATOR, datastore_id, f"gs://{source_bucket.name}")
    assert services.queue.wait_idle(timeout=120)
    source_bucket.blob("a.md").delete()
    report = sync.sync(OPERATOR, datastore_id, f"gs://{source_bucket.name}/", delete=False)
    assert (report.listed, report.deleted) == (0, 0)
    assert list(documents_by_uri(services, datastore_id)) == [f"gs://{source_bucket.name}/a.md"]


def test_folder_sync_removes_documents_whose_files_are_gone(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "d_cs"  # '_' is a LIKE wildcard: a sibling "dxcs" must not count as below it
    (folder / "sub").mkdir(parents=True)
    (folder / "ops.md").write_bytes(dapr_page(*K8S_OPERATOR))
    (folder / "sub" / "gha.md").write_bytes(dapr_page(*GITHUB_ACTIONS))
    (folder / "notes.txt").write_text("Audit logs are kept for 400 days.\n")
    sibling = tmp_path / "dxcs"
    sibling.mkdir()
    (sibling / "kratix.md").write_bytes(dapr_page(*KRATIX))
    datastore_id = services.documents.create_datastore(OPERATOR, "folder").id
    sync = sync_service(services)
    sync.sync(OPERATOR, datastore_id, str(sibling))
    first = sync.sync(OPERATOR, datastore_id, str(folder), include=["*.md"])
    assert services.queue.wait_idle(timeout=120)
    assert (first.listed, first.selected, first.submitted) == (3, 2, 2)
    (folder / "sub" / "gha.md").unlink()
    second = sync.sync(OPERATOR, datastore_id, folder.as_uri(), include=["*.md"])
    assert services.queue.wait_idle(timeout=120)
    assert (second.listed, second.submitted, second.deleted) == (2, 1, 1)
    documents = documents_by_uri(services, datastore_id)
    assert sorted(documents) == [(folder / "ops.md").as_uri(), (sibling / "kratix.md").as_uri()]
    assert documents[(folder / "ops.md").as_uri()].version == 1  # same bytes: submit left it alone
    assert hit_uris(services, datastore_id, "GitHub Actions workflow", SearchMode.LEXICAL) == []
    assert_indexes_match_metadata(services, datastore_id)


def test_objects_over_the_upload_limit_are_refused_before_download(
    gcs_services: Services, gcs_client: storage.Client
) -> None:
    services = gcs_services
    source_bucket = gcs_client.bucket(new_bucket(gcs_client))
    source_bucket.blob("small.md").upload_from_string(b"# Small\n\nFits.\n")
    source_bucket.blob("big.md").upload_from_string(b"# Big\n\n" + b"word " * 200)
    datastore_id = services.documents.create_datastore(OPERATOR, "limits").id
    settings = services.settings.model_copy(update={"ingestion": IngestionConfig(max_upload_bytes=100)})
    report = SyncService(services.database, services.documents, settings).sync(
        OPERATOR, datastore_id, f"gs://{source_bucket.name}"
    )
    assert report.rejected == [(f"gs://{source_bucket.name}/big.md", "1007 bytes; the limit is 100")]
    assert report.submitted == 1


def test_gs_uris_name_a_bucket_and_a_folder() -> None:
    assert parse_gs_uri("gs://bucket") == ("bucket", "")
    assert parse_gs_uri("gs://bucket/") == ("bucket", "")
    assert parse_gs_uri("gs://bucket/docs") == ("bucket", "docs/")
    assert parse_gs_uri("gs://bucket/a/b/") == ("bucket", "a/b/")
    for bad in ("gs://", "gs:///x", "s3://bucket/x"):
        with pytest.raises(InvalidRequestError):
            parse_gs_uri(bad)
