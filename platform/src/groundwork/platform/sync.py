"""Sync a datastore with a source: a `gs://bucket/prefix` or a local folder.

New and changed files are ingested through `DocumentService.submit` (idempotent by source URI and content
hash); documents whose file or object is gone from the source are deleted from the metadata store and
both indexes. A `gs://` object whose MD5 (or generation) matches the one recorded when it was last synced
is not even downloaded. Files the include/exclude globs leave out are neither ingested nor deleted (like
rsync without `--delete-excluded`): only what disappeared from the source is removed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from groundwork.ingestion.sources import DEFAULT_INCLUDE, is_selected, read_with_shared_source
from groundwork.platform.access.acl import DocumentAcl
from groundwork.platform.access.principal import Principal
from groundwork.platform.access.sidecars import SidecarAcls, is_sidecar
from groundwork.platform.config import Settings, StorageConfig
from groundwork.platform.db.models import Document, DocumentStatus, Role
from groundwork.platform.db.session import Database
from groundwork.platform.documents import DocumentService, NewDocument
from groundwork.platform.errors import InvalidRequestError

logger = logging.getLogger(__name__)

FINGERPRINT_KEY = "source_fingerprint"
"""Document metadata key holding a `gs://` object's fingerprint when it was last synced."""

_BATCH_DOCUMENTS = 200
_BATCH_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SourceEntry:
    """One file or object of a source."""

    uri: str
    """The document's source URI (`gs://bucket/name`, `file:///...`)."""
    relative: str
    """Path below the source's root, `/`-separated: what the globs match and the document's `path`."""
    fingerprint: str | None = None
    """Changes whenever the content does (without reading it); None: unknown, the content is read."""
    size: int | None = None
    """Bytes, when the listing says (an object over the upload limit is refused without downloading it)."""


class Source(Protocol):
    """Files below one root."""

    @property
    def root_uri(self) -> str:
        """Every entry's URI starts with this; documents under it that the source no longer lists are gone."""
        ...

    def entries(self) -> Iterator[SourceEntry]:
        """Every file below the root, selected or not."""
        ...

    def read(self, entry: SourceEntry) -> bytes | None:
        """The entry's bytes; None when it disappeared since it was listed."""
        ...


class FolderSource:
    """A local folder, walked recursively (Hugo shared sources resolved as `groundwork ingest` does)."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        if not self._root.is_dir():
            raise InvalidRequestError(f"{root} is not a folder")

    @property
    def root_uri(self) -> str:
        return self._root.as_uri() + "/"

    def entries(self) -> Iterator[SourceEntry]:
        for path in sorted(self._root.rglob("*")):
            if path.is_file():
                yield SourceEntry(uri=path.as_uri(), relative=path.relative_to(self._root).as_posix())

    def read(self, entry: SourceEntry) -> bytes | None:
        try:
            return read_with_shared_source(self._root / entry.relative, self._root)
        except FileNotFoundError:
            return None


class GcsSource:
    """The objects below `gs://bucket/prefix`; the prefix is a folder (`gs://b/docs` lists `docs/...`)."""

    def __init__(self, uri: str, config: StorageConfig) -> None:
        from groundwork.platform.storage.gcs import GcsReader, make_gcs_client

        self._bucket, self._prefix = parse_gs_uri(uri)
        self._reader = GcsReader(make_gcs_client(config), self._bucket, timeout_seconds=config.gcs_timeout_seconds)

    @property
    def root_uri(self) -> str:
        return f"gs://{self._bucket}/{self._prefix}"

    def entries(self) -> Iterator[SourceEntry]:
        for obj in self._reader.list(self._prefix):
            yield SourceEntry(
                uri=f"gs://{self._bucket}/{obj.name}",
                relative=obj.name.removeprefix(self._prefix),
                fingerprint=obj.fingerprint,
                size=obj.size,
            )

    def read(self, entry: SourceEntry) -> bytes | None:
        return self._reader.read(self._prefix + entry.relative)


def parse_gs_uri(uri: str) -> tuple[str, str]:
    """`gs://bucket/a/b` -> (`bucket`, `a/b/`); `gs://bucket` -> (`bucket`, ``)."""
    if not uri.startswith("gs://"):
        raise InvalidRequestError(f"{uri!r} is not a gs:// URI")
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    if not bucket:
        raise InvalidRequestError(f"{uri!r} names no bucket")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def open_source(uri: str, config: StorageConfig) -> Source:
    """A `gs://bucket/prefix` or a local folder (a path or a `file://` URI)."""
    if uri.startswith("gs://"):
        return GcsSource(uri, config)
    if "://" in uri and not uri.startswith("file://"):
        raise InvalidRequestError(f"unsupported source {uri!r}: use gs://bucket/prefix or a local folder")
    return FolderSource(Path(uri.removeprefix("file://")))


@dataclass
class SyncReport:
    """What one sync did."""

    source: str
    listed: int = 0
    """Files or objects below the root."""
    selected: int = 0
    """Of those, the ones the globs take."""
    unchanged: int = 0
    """Selected `gs://` objects skipped without downloading: same fingerprint as when last synced."""
    submitted: int = 0
    """Selected files read and submitted (unchanged content among them is a no-op of `submit`)."""
    acl_changed: int = 0
    """Unchanged objects whose ACL sidecar changed: their ACL was updated (nothing re-embedded)."""
    deleted: int = 0
    """Documents removed because their file or object is gone."""
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(URI, reason) of selected files refused before ingestion (empty, too large, unsupported type)."""
    job_ids: list[str] = field(default_factory=list)


class SyncService:
    """Makes a datastore's documents below a source's root match the source."""

    def __init__(self, database: Database, documents: DocumentService, settings: Settings) -> None:
        self._db = database
        self._documents = documents
        self._storage = settings.storage
        self._max_bytes = settings.ingestion.max_upload_bytes

    def sync(
        self,
        principal: Principal,
        datastore_id: str,
        source_uri: str,
        *,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        delete: bool = True,
    ) -> SyncReport:
        """Ingest new and changed files; with `delete`, remove documents whose file is gone. `include`
        unset or empty: every supported type (`DEFAULT_INCLUDE`). ACLs come from sidecar files
        (`groundwork.platform.access.sidecars`); without one, the default ACL applies."""
        principal.require(Role.EDITOR, "syncing a datastore")
        datastore_id = self._documents.get_datastore(principal, datastore_id).id
        include = include or DEFAULT_INCLUDE
        source = open_source(source_uri, self._storage)
        report = SyncReport(source=source.root_uri)
        known = self._known_documents(datastore_id, source.root_uri)
        entries = list(source.entries())
        by_relative = {entry.relative: entry for entry in entries}
        sidecars = SidecarAcls(by_relative, lambda relative: source.read(by_relative[relative]))
        present: set[str] = set()
        acl_updates: dict[str, DocumentAcl | None] = {}
        batch: list[NewDocument] = []
        batch_bytes = 0
        for entry in entries:
            report.listed += 1
            present.add(entry.uri)
            if is_sidecar(entry.relative) or not is_selected(entry.relative, include=include, exclude=exclude):
                continue
            report.selected += 1
            try:
                acl = sidecars.acl_for(entry.relative)
            except InvalidRequestError as exc:
                report.rejected.append((entry.uri, str(exc)))
                continue
            previous = known.get(entry.uri)
            if entry.fingerprint is not None and previous is not None and previous[1] == entry.fingerprint:
                report.unchanged += 1
                acl_updates[previous[0]] = acl
                continue
            if entry.size is not None and entry.size > self._max_bytes:
                report.rejected.append((entry.uri, f"{entry.size} bytes; the limit is {self._max_bytes}"))
                continue
            data = source.read(entry)
            if data is None:  # deleted since it was listed
                present.discard(entry.uri)
                continue
            item = self._validated(entry, data, acl, report)
            if item is None:
                continue
            batch.append(item)
            batch_bytes += len(item.data)
            if len(batch) >= _BATCH_DOCUMENTS or batch_bytes >= _BATCH_BYTES:
                self._submit(principal, datastore_id, batch, report)
                batch, batch_bytes = [], 0
        if batch:
            self._submit(principal, datastore_id, batch, report)
        if acl_updates:
            report.acl_changed = self._documents.update_acls(acl_updates)
        if delete:
            for uri, (document_id, _) in known.items():
                if uri not in present:
                    if not self._documents.remove_document(document_id):
                        logger.info("%s was already deleted", uri)
                        continue
                    report.deleted += 1
        logger.info(
            "synced %s: %d listed, %d selected, %d unchanged, %d submitted, %d deleted, %d rejected",
            report.source,
            report.listed,
            report.selected,
            report.unchanged,
            report.submitted,
            report.deleted,
            len(report.rejected),
        )
        return report

    def _known_documents(self, datastore_id: str, root_uri: str) -> dict[str, tuple[str, str | None]]:
        """Documents below the root: source URI -> (id, fingerprint it was synced at, if it is still good)."""
        with self._db.session() as session:
            rows = session.execute(
                select(Document.source_uri, Document.id, Document.status, Document.metadata_json).where(
                    Document.datastore_id == datastore_id,
                    Document.source_uri.startswith(root_uri, autoescape=True),
                    Document.owner_key == "",  # the source's own documents, not uploads private to a principal
                )
            ).all()
        known: dict[str, tuple[str, str | None]] = {}
        for uri, document_id, status, metadata in rows:
            # A failed document is read again: its failure may have been transient.
            fingerprint = None if status == DocumentStatus.FAILED else (metadata or {}).get(FINGERPRINT_KEY)
            known[uri] = (document_id, fingerprint if isinstance(fingerprint, str) else None)
        return known

    def _validated(
        self, entry: SourceEntry, data: bytes, acl: DocumentAcl | None, report: SyncReport
    ) -> NewDocument | None:
        """The document to submit, or None (reported) when `submit` would refuse it."""
        metadata: dict[str, object] = {"path": entry.relative}
        if entry.fingerprint is not None:
            metadata[FINGERPRINT_KEY] = entry.fingerprint
        item = NewDocument(source_uri=entry.uri, filename=entry.relative, data=data, metadata=metadata, acl=acl)
        try:
            self._documents.validate(item)
        except InvalidRequestError as exc:
            report.rejected.append((entry.uri, str(exc)))
            return None
        return item

    def _submit(self, principal: Principal, datastore_id: str, batch: list[NewDocument], report: SyncReport) -> None:
        # The source owns the documents below its root: sync replaces them whatever their ACL says.
        submission = self._documents.submit(principal, datastore_id, batch, kind="sync", replace_any=True)
        report.submitted += len(batch)
        report.job_ids.append(submission.job.id)
