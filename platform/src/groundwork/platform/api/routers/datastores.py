"""Datastores: named collections of documents with their own indexes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from groundwork.platform.api.deps import DocumentsDep, ServicesDep
from groundwork.platform.api.schemas import DatastoreCreate, DatastoreList, DatastoreOut, SyncIn, SyncOut
from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.sync import SyncService

router = APIRouter(prefix="/v1/datastores", tags=["datastores"])


@router.post("", status_code=201, summary="Create a datastore")
def create_datastore(body: DatastoreCreate, documents: DocumentsDep) -> DatastoreOut:
    return DatastoreOut.build(documents.create_datastore(body.name, body.description))


@router.get("", summary="List datastores")
def list_datastores(documents: DocumentsDep) -> DatastoreList:
    return DatastoreList(
        items=[DatastoreOut.build(d, documents.datastore_stats(d.id)) for d in documents.list_datastores()]
    )


@router.get("/{datastore}", summary="Get a datastore (by id or name) with document and chunk counts")
def get_datastore(datastore: str, documents: DocumentsDep) -> DatastoreOut:
    found = documents.get_datastore(datastore)
    return DatastoreOut.build(found, documents.datastore_stats(found.id))


@router.post(
    "/{datastore}/sync",
    status_code=202,
    summary="Sync with a gs:// prefix: ingest new and changed objects, remove documents whose object is gone",
)
def sync_datastore(datastore: str, body: SyncIn, services: ServicesDep) -> SyncOut:
    if not body.source.startswith("gs://"):  # the server never reads its own file system for a client
        raise InvalidRequestError("the API syncs gs:// sources only; sync a local folder with `groundwork sync`")
    found = services.documents.get_datastore(datastore)
    report = SyncService(services.database, services.documents, services.settings).sync(
        found.id, body.source, include=body.include, exclude=body.exclude, delete=body.delete
    )
    return SyncOut.build(report)


@router.delete("/{datastore}", status_code=204, summary="Delete a datastore, its documents and indexes")
def delete_datastore(datastore: str, documents: DocumentsDep) -> Response:
    documents.delete_datastore(datastore)
    return Response(status_code=204)
