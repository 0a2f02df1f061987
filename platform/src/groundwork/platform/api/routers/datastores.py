"""Datastores: named collections of documents with their own indexes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from groundwork.platform.api.deps import DocumentsDep
from groundwork.platform.api.schemas import DatastoreCreate, DatastoreList, DatastoreOut

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


@router.delete("/{datastore}", status_code=204, summary="Delete a datastore, its documents and indexes")
def delete_datastore(datastore: str, documents: DocumentsDep) -> Response:
    documents.delete_datastore(datastore)
    return Response(status_code=204)
