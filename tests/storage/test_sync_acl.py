"""ACLs from sidecar files: `<file>.acl.json` and a folder's `.acl.json`, on gs:// prefixes (emulator, real
client) and folders. A sidecar change updates the ACL without downloading or re-embedding the document; a broken
sidecar refuses its documents rather than ingesting them with another ACL."""

from __future__ import annotations

import json
from pathlib import Path

from google.cloud import storage
from sqlalchemy import select

from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import Chunk, Document, Role
from groundwork.platform.services import Services
from groundwork.platform.sync import SyncService
from tests.conftest import OPERATOR

from .conftest import new_bucket

ANA = Principal(tenant_id="default", name="ana", role=Role.READER, groups=frozenset({"sre"}))
BO = Principal(tenant_id="default", name="bo", role=Role.READER)


def visible(services: Services, principal: Principal, datastore_id: str) -> set[str]:
    items, _ = services.documents.list_documents(principal, datastore_id, limit=1000)
    return {d.source_uri.rsplit("/", 1)[-1] for d in items}


def test_sidecars_set_acls_and_a_changed_sidecar_changes_only_the_acl(
    gcs_services: Services, gcs_client: storage.Client
) -> None:
    services = gcs_services
    services.identities.create_group(OPERATOR, "sre")
    bucket = gcs_client.bucket(new_bucket(gcs_client))
    files = {
        "kb/public.md": b"# Public\n\nThe cafeteria opens at eight.\n",
        "kb/ops/pager.md": b"# Pager\n\nThe pager rotation changes on Mondays.\n",
        "kb/ops/secret.md": b"# Secret\n\nThe vault unseal quorum is three of five.\n",
        "kb/ops/.acl.json": json.dumps({"groups": ["sre"]}).encode(),
        "kb/ops/secret.md.acl.json": json.dumps({"users": ["bo"]}).encode(),
        "kb/broken.md": b"# Broken\n\nThis one has a broken sidecar.\n",
        "kb/broken.md.acl.json": b"{not json",
    }
    for name, data in files.items():
        bucket.blob(name).upload_from_string(data)
    datastore_id = services.documents.create_datastore(OPERATOR, "kb").id
    sync = SyncService(services.database, services.documents, services.settings)
    root = f"gs://{bucket.name}/kb"

    report = sync.sync(OPERATOR, datastore_id, root)
    assert services.queue.wait_idle(timeout=120)
    assert report.submitted == 3 and report.selected == 4
    assert report.rejected == [
        (
            f"{root}/broken.md",
            "ACL sidecar broken.md.acl.json is not valid JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        )
    ]
    assert visible(services, ANA, datastore_id) == {"public.md", "pager.md"}  # the folder's sidecar: group sre
    assert visible(services, BO, datastore_id) == {"public.md", "secret.md"}  # the file's own sidecar wins

    with services.database.session() as session:
        chunk_ids = set(session.scalars(select(Chunk.id)))
        indexed_at = {d.source_uri: d.indexed_at for d in session.scalars(select(Document))}
    bucket.blob("kb/ops/secret.md.acl.json").upload_from_string(json.dumps({"users": ["ana"]}).encode())
    again = sync.sync(OPERATOR, datastore_id, root)
    assert (again.unchanged, again.submitted, again.acl_changed) == (3, 0, 1)
    assert visible(services, ANA, datastore_id) == {"public.md", "pager.md", "secret.md"}
    assert visible(services, BO, datastore_id) == {"public.md"}
    with services.database.session() as session:
        assert set(session.scalars(select(Chunk.id))) == chunk_ids, "nothing was re-embedded"
        assert {d.source_uri: d.indexed_at for d in session.scalars(select(Document))} == indexed_at

    bucket.blob("kb/ops/secret.md.acl.json").delete()  # back to the folder's ACL
    third = sync.sync(OPERATOR, datastore_id, root)
    assert third.acl_changed == 1
    assert visible(services, ANA, datastore_id) == {"public.md", "pager.md", "secret.md"}
    assert visible(services, BO, datastore_id) == {"public.md"}


def test_folder_sync_reads_sidecars_too(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "hr").mkdir(parents=True)
    (folder / "handbook.md").write_text("# Handbook\n\nWelcome aboard.\n")
    (folder / "hr" / "salaries.md").write_text("# Salaries\n\nBands are reviewed every April.\n")
    (folder / "hr" / ".acl.json").write_text('"private"')
    datastore_id = services.documents.create_datastore(OPERATOR, "folder").id
    report = SyncService(services.database, services.documents, services.settings).sync(
        OPERATOR, datastore_id, str(folder)
    )
    assert services.queue.wait_idle(timeout=120)
    assert report.submitted == 2 and not report.rejected
    admin = Principal(tenant_id="default", name="root", role=Role.ADMIN)
    assert visible(services, ANA, datastore_id) == {"handbook.md"}
    assert visible(services, admin, datastore_id) == {"handbook.md", "salaries.md"}  # empty ACL: admins only
