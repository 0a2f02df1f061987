"""Datastores: named collections of documents with their own indexes, one tenant's each."""

from __future__ import annotations

from fastapi import APIRouter, Response

from groundwork.platform.api.deps import DocumentsDep, PrincipalDep, ServicesDep
from groundwork.platform.api.schemas import DatastoreCreate, DatastoreList, DatastoreOut, SyncIn, SyncOut
from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.sync import SyncService

router = APIRouter(prefix="/v1/datastores", tags=["datastores"])


@router.post("", status_code=201, summary="Create a datastore (editor)")
def create_datastore(body: DatastoreCreate, documents: DocumentsDep, principal: PrincipalDep) -> DatastoreOut:
    return DatastoreOut.build(documents.create_datastore(principal, body.name, body.description))


@router.get("", summary="List the tenant's datastores; counts include only documents the caller may read")
def list_datastores(documents: DocumentsDep, principal: PrincipalDep) -> DatastoreList:
    return DatastoreList(
        items=[
            DatastoreOut.build(d, documents.datastore_stats(principal, d.id))
            for d in documents.list_datastores(principal)
        ]
    )


@router.get("/{datastore}", summary="Get a datastore (by id or name) with counts of the documents the caller may read")
def get_datastore(datastore: str, documents: DocumentsDep, principal: PrincipalDep) -> DatastoreOut:
    found = documents.get_datastore(principal, datastore)
    return DatastoreOut.build(found, documents.datastore_stats(principal, found.id))


@router.post(
    "/{datastore}/sync",
    status_code=202,
    summary="Sync with a gs:// prefix (editor): ingest new and changed objects, remove documents whose object is "
    "gone, apply ACL sidecars",
)
def sync_datastore(datastore: str, body: SyncIn, services: ServicesDep, principal: PrincipalDep) -> SyncOut:
    if not body.source.startswith("gs://"):  # the server never reads its own file system for a client
        raise InvalidRequestError("the API syncs gs:// sources only; sync a local folder with `groundwork sync`")
    report = SyncService(services.database, services.documents, services.settings).sync(
        principal, datastore, body.source, include=body.include, exclude=body.exclude, delete=body.delete
    )
    return SyncOut.build(report)


@router.delete("/{datastore}", status_code=204, summary="Delete a datastore, its documents and indexes (admin)")
def delete_datastore(datastore: str, documents: DocumentsDep, principal: PrincipalDep) -> Response:
    documents.delete_datastore(principal, datastore)
    return Response(status_code=204)
