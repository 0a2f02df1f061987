"""Documents: upload (asynchronous ingestion), status, ACL, preview, original file, deletion.

A document the caller may not read is "not found" on every route, so ids reveal nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from groundwork.platform.access.acl import DocumentAcl
from groundwork.platform.api.deps import AuditDep, DocumentsDep, PrincipalDep, ServicesDep, SettingsDep
from groundwork.platform.api.schemas import (
    AclIn,
    BatchAccepted,
    BatchDocument,
    BatchRefusal,
    DocumentList,
    DocumentOut,
    JobOut,
    UploadAccepted,
)
from groundwork.platform.documents import NewDocument
from groundwork.platform.errors import FileTooLargeError, InvalidRequestError, TooManyFilesError
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


_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "manifest": {
                            "type": "string",
                            "description": "JSON array, one entry (or null) per file in order: "
                            "{source_uri, title, metadata, acl}",
                        },
                    },
                }
            }
        },
    }
}


def _manifest(raw: Any, count: int) -> list[dict[str, Any]]:
    if raw is None:
        return [{} for _ in range(count)]
    entries = _json_form(raw if isinstance(raw, str) else None, "manifest")
    if not isinstance(entries, list) or len(entries) != count:
        raise InvalidRequestError(f"manifest must be a JSON array with one entry per file ({count})")
    if not all(entry is None or isinstance(entry, dict) for entry in entries):
        raise InvalidRequestError("each manifest entry must be a JSON object or null")
    return [entry or {} for entry in entries]


def _batch_item(filename: str, data: bytes, content_type: str | None, entry: dict[str, Any]) -> NewDocument:
    source_uri, title, metadata = entry.get("source_uri"), entry.get("title"), entry.get("metadata")
    if not isinstance(source_uri, str | None) or not isinstance(title, str | None):
        raise InvalidRequestError(f"{filename}: source_uri and title must be strings")
    if not isinstance(metadata, dict | None):
        raise InvalidRequestError(f"{filename}: metadata must be a JSON object")
    acl = entry.get("acl")
    return NewDocument(
        source_uri=source_uri or f"upload://{filename}",
        filename=filename,
        data=data,
        declared_mime_type=content_type,
        title=title,
        metadata=metadata or {},
        acl=None if acl is None else DocumentAcl.parse(acl),
    )


@router.post(
    "/batch",
    status_code=202,
    summary="Upload many files as one job (editor): multipart `files` (repeated) and an optional `manifest`",
    openapi_extra=_BATCH_BODY,
)
async def upload_batch(
    datastore: str, request: Request, documents: DocumentsDep, settings: SettingsDep, principal: PrincipalDep
) -> BatchAccepted:
    config = settings.ingestion
    try:
        form = await request.form(max_files=config.max_batch_files, max_fields=16)
    except StarletteHTTPException as exc:
        if str(exc.detail).startswith("Too many files"):
            raise TooManyFilesError(
                f"more than {config.max_batch_files} files in one batch (split the upload)"
            ) from exc
        raise InvalidRequestError(f"malformed multipart body: {exc.detail}") from exc
    try:
        parts = [part for part in form.getlist("files") if not isinstance(part, str)]
        if not parts:
            raise InvalidRequestError("no `files` parts in the request")
        entries = _manifest(form.get("manifest"), len(parts))
        items: list[NewDocument] = []
        refused: list[BatchRefusal] = []
        for part, entry in zip(parts, entries, strict=True):
            filename = part.filename or "upload"
            data = await part.read(config.max_upload_bytes + 1)
            try:
                items.append(_batch_item(filename, data, part.content_type, entry))
            except InvalidRequestError as exc:
                refused.append(BatchRefusal(filename=filename, code=exc.code, message=str(exc)))
    finally:
        await form.close()
    result = await run_in_threadpool(documents.submit_batch, principal, datastore, items)
    return BatchAccepted(
        job=JobOut.build(result.submission.job),
        documents=[
            BatchDocument(filename=name, document_id=document_id)
            for name, document_id in zip(result.accepted, result.submission.document_ids, strict=True)
        ],
        refused=refused + [BatchRefusal(filename=r.filename, code=r.code, message=r.message) for r in result.refused],
    )


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
