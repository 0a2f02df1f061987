"""Documents: upload (asynchronous ingestion), status, deletion."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from groundwork.platform.api.deps import DocumentsDep, SettingsDep
from groundwork.platform.api.schemas import DocumentList, DocumentOut, JobOut, UploadAccepted
from groundwork.platform.documents import NewDocument
from groundwork.platform.errors import FileTooLargeError, InvalidRequestError

router = APIRouter(prefix="/v1/datastores/{datastore}/documents", tags=["documents"])


def _parse_metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        metadata = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestError(f"metadata is not valid JSON: {exc}") from exc
    if not isinstance(metadata, dict):
        raise InvalidRequestError("metadata must be a JSON object")
    return metadata


@router.post("", status_code=202, summary="Upload a document; it is ingested asynchronously (see the job)")
async def upload_document(
    datastore: str,
    documents: DocumentsDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown or plain text")],
    metadata: Annotated[str | None, Form(description="JSON object stored with the document")] = None,
    title: Annotated[str | None, Form()] = None,
    source_uri: Annotated[
        str | None, Form(description="Identity of the document; defaults to upload://<filename>")
    ] = None,
) -> UploadAccepted:
    limit = settings.ingestion.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(f"{file.filename} is larger than the {limit}-byte upload limit")
    filename = file.filename or "upload"
    item = NewDocument(
        source_uri=source_uri or f"upload://{filename}",
        filename=filename,
        data=data,
        declared_mime_type=file.content_type,
        title=title,
        metadata=_parse_metadata(metadata),
    )
    found = documents.get_datastore(datastore)
    submission = documents.submit(found.id, [item], kind="upload")
    return UploadAccepted(job=JobOut.build(submission.job), document_id=submission.document_ids[0])


@router.get("", summary="List documents with their status")
def list_documents(
    datastore: str,
    documents: DocumentsDep,
    status: Annotated[str | None, Query(description="Only documents in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentList:
    found = documents.get_datastore(datastore)
    items, total = documents.list_documents(found.id, status=status, limit=limit, offset=offset)
    return DocumentList(items=[DocumentOut.build(d) for d in items], total=total)


@router.get("/{document_id}", summary="Get a document")
def get_document(datastore: str, document_id: str, documents: DocumentsDep) -> DocumentOut:
    found = documents.get_datastore(datastore)
    return DocumentOut.build(documents.get_document(found.id, document_id))


@router.post(
    "/{document_id}/retry",
    status_code=202,
    summary="Queue a failed or dead-lettered document again (a new job with fresh attempts)",
)
def retry_document(datastore: str, document_id: str, documents: DocumentsDep) -> JobOut:
    found = documents.get_datastore(datastore)
    documents.get_document(found.id, document_id)
    return JobOut.build(documents.retry(found.id, [document_id]))


@router.delete("/{document_id}", status_code=204, summary="Delete a document from the metadata and both indexes")
def delete_document(datastore: str, document_id: str, documents: DocumentsDep) -> Response:
    found = documents.get_datastore(datastore)
    documents.delete_document(found.id, document_id)
    return Response(status_code=204)
