"""Every API route the client calls: method, path template, request and response models. Both clients build
their requests from this table, and a test checks it against the server's /openapi.json, so the client cannot
drift from the server unnoticed."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from groundwork.client import models as m


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    response: type[BaseModel] | None
    """The model of a 2xx body (a list of it when `many`); None: no body."""
    request: type[BaseModel] | None = None
    """The JSON body's model; None: no JSON body (or a multipart form)."""
    many: bool = False
    idempotent: bool | None = None
    """Safe to resend after a broken connection; default: GET, PUT and DELETE."""

    @property
    def safe_to_resend(self) -> bool:
        return self.idempotent if self.idempotent is not None else self.method in ("GET", "PUT", "DELETE", "HEAD")


D = "/v1/datastores"
DOCS = D + "/{datastore}/documents"
ADMIN = "/v1/admin"
CONV = "/v1/conversations"

ROUTES: dict[str, Route] = {
    "me": Route("GET", "/v1/me", m.Me),
    "create_datastore": Route("POST", D, m.Datastore, m.DatastoreCreate),
    "list_datastores": Route("GET", D, m.DatastoreList),
    "get_datastore": Route("GET", D + "/{datastore}", m.Datastore),
    "delete_datastore": Route("DELETE", D + "/{datastore}", None),
    "sync_datastore": Route("POST", D + "/{datastore}/sync", m.SyncReport, m.SyncIn),
    # Uploads are idempotent on the server (same source_uri and bytes: a no-op that joins the new job).
    "upload_document": Route("POST", DOCS, m.UploadAccepted, idempotent=True),
    "upload_batch": Route("POST", DOCS + "/batch", m.BatchAccepted, idempotent=True),
    "list_documents": Route("GET", DOCS, m.DocumentList),
    "get_document": Route("GET", DOCS + "/{document_id}", m.Document),
    "set_acl": Route("PUT", DOCS + "/{document_id}/acl", m.Document, m.Acl),
    "get_passage": Route("GET", DOCS + "/{document_id}/preview", m.Passage),
    "retry_document": Route("POST", DOCS + "/{document_id}/retry", m.Job),
    "delete_document": Route("DELETE", DOCS + "/{document_id}", None),
    "get_job": Route("GET", "/v1/jobs/{job_id}", m.Job),
    "job_documents": Route("GET", "/v1/jobs/{job_id}/documents", m.Document, many=True),
    "job_failures": Route("GET", "/v1/jobs/{job_id}/failures", m.Document, many=True),
    "retry_job": Route("POST", "/v1/jobs/{job_id}/retry", m.Job),
    "search": Route("POST", "/v1/search", m.SearchResponse, m.SearchRequest, idempotent=True),
    "answer": Route("POST", "/v1/answer", m.Answer, m.AnswerRequest),
    "list_conversations": Route("GET", CONV, m.ConversationList),
    "get_conversation": Route("GET", CONV + "/{conversation_id}", m.ConversationDetail),
    "rename_conversation": Route("PATCH", CONV + "/{conversation_id}", m.Conversation, m.ConversationRename),
    "delete_conversation": Route("DELETE", CONV + "/{conversation_id}", None),
    "add_feedback": Route("POST", CONV + "/{conversation_id}/messages/{message_id}/feedback", m.Feedback, m.FeedbackIn),
    "create_tenant": Route("POST", ADMIN + "/tenants", m.TenantCreated, m.TenantIn),
    "list_tenants": Route("GET", ADMIN + "/tenants", m.Tenant, many=True),
    "create_user": Route("POST", ADMIN + "/users", m.User, m.UserIn),
    "list_users": Route("GET", ADMIN + "/users", m.User, many=True),
    "get_user": Route("GET", ADMIN + "/users/{user}", m.User),
    "update_user": Route("PATCH", ADMIN + "/users/{user}", m.User, m.UserPatch),
    "delete_user": Route("DELETE", ADMIN + "/users/{user}", None),
    "create_group": Route("POST", ADMIN + "/groups", m.Group, m.GroupIn),
    "list_groups": Route("GET", ADMIN + "/groups", m.Group, many=True),
    "delete_group": Route("DELETE", ADMIN + "/groups/{group}", None),
    "add_members": Route("POST", ADMIN + "/groups/{group}/members", None, m.MembersIn),
    "remove_member": Route("DELETE", ADMIN + "/groups/{group}/members/{user}", None),
    "create_api_key": Route("POST", ADMIN + "/api-keys", m.IssuedKey, m.ApiKeyIn),
    "list_api_keys": Route("GET", ADMIN + "/api-keys", m.ApiKey, many=True),
    "revoke_api_key": Route("DELETE", ADMIN + "/api-keys/{key_id}", None),
    "audit": Route("GET", ADMIN + "/audit", m.AuditEntry, many=True),
}
