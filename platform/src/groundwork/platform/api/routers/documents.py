"""Documents: upload (asynchronous ingestion), status, ACL, preview, original file, deletion.

A document the caller may not read is "not found" on every route, so ids reveal nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from groundwork.platform.access.acl import DocumentAcl
from groundwork.platform.api.deps import AuditDep, DocumentsDep, PrincipalDep, ServicesDep, SettingsDep
from groundwork.platform.api.schemas import AclIn, DocumentList, DocumentOut, JobOut, UploadAccepted
from groundwork.platform.documents import NewDocument
from groundwork.platform.errors import FileTooLargeError, InvalidRequestError
from groundwork.platform.previews import Preview, build_preview
from groundwork.platform.request_context import request_id

router = APIRouter(prefix="/v1/datastores/{datastore}/documents", tags=["documents"])


def _json_form(raw: str | None, field: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestError(f"{field} is not valid JSON: {exc}") from exc


def _parse_metadata(raw: str | None) -> dict[str, Any]:
    metadata = _json_form(raw, "metadata")
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidRequestError("metadata must be a JSON object")
    return metadata


@router.post("", status_code=202, summary="Upload a document (editor); it is ingested asynchronously (see the job)")
async def upload_document(
    datastore: str,
    documents: DocumentsDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="PDF, DOCX, HTML, Markdown or plain text")],
    metadata: Annotated[str | None, Form(description="JSON object stored with the document")] = None,
    acl: Annotated[
        str | None,
        Form(
            description='Who may read it: JSON `{"users": [...], "groups": [...], "tenant": false}`, or `"tenant"` '
            'or `"private"` (tenant admins only). Unset: the `access.default_document_acl` setting.'
        ),
    ] = None,
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
    declared = _json_form(acl, "acl")
    item = NewDocument(
        source_uri=source_uri or f"upload://{filename}",
        filename=filename,
        data=data,
        declared_mime_type=file.content_type,
        title=title,
        metadata=_parse_metadata(metadata),
        acl=None if declared is None else DocumentAcl.parse(declared),
    )
    submission = await run_in_threadpool(documents.submit, principal, datastore, [item], kind="upload")
    return UploadAccepted(job=JobOut.build(submission.job), document_id=submission.document_ids[0])


@router.get("", summary="List the documents the caller may read, with their status")
def list_documents(
    datastore: str,
    documents: DocumentsDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="Only documents in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DocumentList:
    found = documents.get_datastore(principal, datastore)
    items, total = documents.list_documents(principal, found.id, status=status, limit=limit, offset=offset)
    return DocumentList(items=[DocumentOut.build(d) for d in items], total=total)


@router.get("/{document_id}", summary="Get a document")
def get_document(datastore: str, document_id: str, documents: DocumentsDep, principal: PrincipalDep) -> DocumentOut:
    found = documents.get_datastore(principal, datastore)
    return DocumentOut.build(documents.get_document(principal, found.id, document_id))


@router.put(
    "/{document_id}/acl",
    summary="Replace who may read a document (editors: documents they read; admins: any). Takes effect on the "
    "next request; nothing is re-embedded",
)
def set_acl(
    datastore: str, document_id: str, body: AclIn, services: ServicesDep, principal: PrincipalDep
) -> DocumentOut:
    found = services.documents.get_datastore(principal, datastore)
    acl = DocumentAcl.parse(body.model_dump())  # the same validation as uploads and sidecars
    document = services.documents.set_acl(principal, found.id, document_id, acl)
    services.audit.record(
        principal,
        "acl.update",
        request_id=request_id.get(),
        datastore_ids=[found.id],
        shown=[document_id],
        details={"acl": acl.to_json()},
    )
    return DocumentOut.build(document)


@router.get("/{document_id}/preview", summary="A passage of the document with the text around it")
def preview(
    datastore: str,
    document_id: str,
    services: ServicesDep,
    audit: AuditDep,
    principal: PrincipalDep,
    chunk_id: Annotated[int, Query(description="The passage (a citation's or search hit's chunk_id)")],
    context_chars: Annotated[int, Query(ge=0, le=20_000, description="Characters shown on each side")] = 600,
) -> Preview:
    found = services.documents.get_datastore(principal, datastore)
    services.documents.get_document(principal, found.id, document_id)
    result = build_preview(services.database, principal, document_id, chunk_id, context_chars)
    audit.record(
        principal, "document.preview", request_id=request_id.get(), datastore_ids=[found.id], shown=[document_id]
    )
    return result


@router.get(
    "/{document_id}/file",
    summary="The document's original bytes (always as an attachment, never rendered inline)",
    response_class=Response,
)
def download(
    datastore: str, document_id: str, services: ServicesDep, audit: AuditDep, principal: PrincipalDep
) -> Response:
    found = services.documents.get_datastore(principal, datastore)
    document = services.documents.get_document(principal, found.id, document_id)
    data = services.documents.original_bytes(document)
    audit.record(principal, "document.file", request_id=request_id.get(), datastore_ids=[found.id], shown=[document_id])
    name = str(document.metadata_json.get("path") or document.source_uri).rsplit("/", 1)[-1]
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:200] or "document"
    return Response(
        content=data,
        media_type=document.mime_type,
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.post(
    "/{document_id}/retry",
    status_code=202,
    summary="Queue a failed or dead-lettered document again (editor; a new job with fresh attempts)",
)
def retry_document(datastore: str, document_id: str, documents: DocumentsDep, principal: PrincipalDep) -> JobOut:
    found = documents.get_datastore(principal, datastore)
    return JobOut.build(documents.retry(principal, found.id, [document_id]))


@router.delete(
    "/{document_id}", status_code=204, summary="Delete a document from the metadata and both indexes (editor)"
)
def delete_document(datastore: str, document_id: str, documents: DocumentsDep, principal: PrincipalDep) -> Response:
    found = documents.get_datastore(principal, datastore)
    documents.delete_document(principal, found.id, document_id)
    return Response(status_code=204)
