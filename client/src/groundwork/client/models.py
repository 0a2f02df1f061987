"""The API's wire models, as the client reads and sends them. Response models accept fields they do not know
(a newer server may add some); request models are exactly what the server accepts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from groundwork.client.admin_models import (  # re-exported: identity administration and sync
    ApiKey as ApiKey,
)
from groundwork.client.admin_models import (
    ApiKeyIn as ApiKeyIn,
)
from groundwork.client.admin_models import (
    AuditDocument as AuditDocument,
)
from groundwork.client.admin_models import (
    AuditEntry as AuditEntry,
)
from groundwork.client.admin_models import (
    Group as Group,
)
from groundwork.client.admin_models import (
    GroupIn as GroupIn,
)
from groundwork.client.admin_models import (
    IssuedKey as IssuedKey,
)
from groundwork.client.admin_models import (
    MembersIn as MembersIn,
)
from groundwork.client.admin_models import (
    RejectedFile as RejectedFile,
)
from groundwork.client.admin_models import (
    SyncIn as SyncIn,
)
from groundwork.client.admin_models import (
    SyncReport as SyncReport,
)
from groundwork.client.admin_models import (
    Tenant as Tenant,
)
from groundwork.client.admin_models import (
    TenantCreated as TenantCreated,
)
from groundwork.client.admin_models import (
    TenantIn as TenantIn,
)
from groundwork.client.admin_models import (
    User as User,
)
from groundwork.client.admin_models import (
    UserIn as UserIn,
)
from groundwork.client.admin_models import (
    UserPatch as UserPatch,
)
from groundwork.client.wire import Model as Model
from groundwork.client.wire import Request as Request

FilterOp = Literal["eq", "ne", "in", "gt", "gte", "lt", "lte"]
SearchMode = Literal["dense", "lexical", "hybrid"]


class Filter(Request):
    key: str
    op: FilterOp = "eq"
    value: Any = None


class DatastoreCreate(Request):
    name: str
    description: str = ""


class Datastore(Model):
    id: str
    name: str
    description: str
    embedding_model: str
    created_at: datetime
    documents: int = 0
    chunks: int = 0
    documents_by_status: dict[str, int] = Field(default_factory=dict)


class DatastoreList(Model):
    items: list[Datastore]


class Document(Model):
    id: str
    datastore_id: str
    source_uri: str
    title: str
    mime_type: str
    content_hash: str
    size_bytes: int
    version: int
    status: str
    failure_code: str | None = None
    failure_reason: str | None = None
    attempts: int = 0
    chunk_count: int = 0
    page_count: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    acl: dict[str, Any] | None = None
    job_id: str | None = None
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None = None


class DocumentList(Model):
    items: list[Document]
    total: int


class Job(Model):
    id: str
    datastore_id: str
    kind: str
    status: str
    total: int
    done: int
    failed: int
    progress: float
    docs_per_second: float | None = None
    eta_seconds: float | None = None
    created_at: datetime
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "completed_with_errors")


class UploadAccepted(Model):
    job: Job
    document_id: str


class Acl(Request):
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    tenant: bool = False


class Passage(Model):
    """A passage (a search hit's or citation's chunk) with the text around it."""

    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    mime_type: str
    chunk_id: int
    heading_path: list[str]
    page: int | None = None
    text: str
    highlight_start: int
    highlight_end: int
    document_start: int


class SearchRequest(Request):
    query: str
    datastore_ids: list[str]
    filters: list[Filter] = Field(default_factory=list)
    top_k: int | None = None
    mode: SearchMode = "hybrid"


class SearchHit(Model):
    chunk_id: int
    score: float
    text: str
    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    heading_path: list[str]
    start_offset: int
    end_offset: int
    page: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None
    lexical_score: float | None = None


class SearchResponse(Model):
    hits: list[SearchHit]
    timings_ms: dict[str, float] = Field(default_factory=dict)


class AnswerRequest(Request):
    question: str
    datastore_ids: list[str]
    filters: list[Filter] = Field(default_factory=list)
    conversation_id: str | None = None
    stream: bool = False
    top_k: int | None = None
    draft: bool = False
    """Also stream the model's raw, unverified text as `draft` events (clearly labelled; off by default)."""


class Citation(Model):
    number: int
    chunk_id: int
    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    start_offset: int
    end_offset: int
    page: int | None = None
    heading_path: list[str] = Field(default_factory=list)
    quote: str = ""


class Claim(Model):
    text: str
    citations: list[int] = Field(default_factory=list)
    supported: bool
    score: float = 0.0
    reasons: list[str] = Field(default_factory=list)


class Answer(Model):
    answer: str
    citations: list[Citation]
    claims: list[Claim]
    refused: bool
    mode: str
    notice: str | None = None
    retrieved: list[SearchHit] = Field(default_factory=list)
    conversation_id: str
    message_id: int | None = None
    standalone_query: str = ""
    timings_ms: dict[str, float] = Field(default_factory=dict)


class Conversation(Model):
    id: str
    title: str
    datastore_ids: list[str]
    created_at: datetime
    updated_at: datetime


class ConversationList(Model):
    items: list[Conversation]


class Message(Model):
    id: int
    role: str
    content: str
    standalone_query: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    withheld: bool = False
    feedback: dict[str, Any] | None = None


class ConversationDetail(Conversation):
    messages: list[Message]


class ConversationRename(Request):
    title: str


class FeedbackIn(Request):
    rating: int
    comment: str = ""


class Feedback(Model):
    id: int
    conversation_id: str
    message_id: int
    rating: int
    comment: str
    created_at: datetime


class Me(Model):
    tenant_id: str
    name: str
    role: str
    groups: list[str]
    method: str
    key_id: str | None = None


class BatchDocument(Model):
    filename: str
    document_id: str


class RefusedFile(Model):
    filename: str
    code: str
    message: str


class BatchAccepted(Model):
    """One bulk upload: one job for every accepted file; refused files are not in it."""

    job: Job
    documents: list[BatchDocument] = Field(default_factory=list)
    refused: list[RefusedFile] = Field(default_factory=list)


class UploadFile(BaseModel):
    """A file to upload: its name (a relative path shows as the document's path), bytes, and optionally its
    identity (`source_uri`, default `upload://<filename>`), title, metadata and who may read it."""

    model_config = ConfigDict(frozen=True)

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    source_uri: str | None = None
    title: str | None = None
    metadata: dict[str, Any] | None = None
    acl: dict[str, Any] | str | None = None
