"""Wire schemas of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from groundwork.platform.access.identities import IssuedKey
from groundwork.platform.answers.types import AnswerResult
from groundwork.platform.db.models import ApiKey, Conversation, Datastore, Document, Job, Role, Tenant, User
from groundwork.platform.documents import JobProgress
from groundwork.platform.search import FilterOp, SearchHit
from groundwork.platform.sync import SyncReport
from groundwork.retrieval.types import SearchMode


class DatastoreCreate(BaseModel):
    name: str = Field(description="Unique per tenant: letters, digits, '.', '_', '-'.", examples=["eng-docs"])
    description: str = ""


class DatastoreOut(BaseModel):
    id: str
    name: str
    description: str
    embedding_model: str
    created_at: datetime
    documents: int = 0
    chunks: int = 0
    documents_by_status: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def build(cls, datastore: Datastore, stats: dict[str, int] | None = None) -> DatastoreOut:
        stats = stats or {}
        return cls(
            id=datastore.id,
            name=datastore.name,
            description=datastore.description,
            embedding_model=datastore.embedding_model,
            created_at=datastore.created_at,
            documents=stats.get("documents", 0),
            chunks=stats.get("chunks", 0),
            documents_by_status={
                k.removeprefix("documents_"): v for k, v in stats.items() if k.startswith("documents_")
            },
        )


class DatastoreList(BaseModel):
    items: list[DatastoreOut]


class DocumentOut(BaseModel):
    id: str
    datastore_id: str
    source_uri: str
    title: str
    mime_type: str
    content_hash: str
    size_bytes: int
    version: int
    status: str = Field(
        description="queued, parsing, embedding (in flight); indexed, failed (permanent: cannot be parsed) or "
        "dead_letter (gave up after ingestion.max_attempts unexpected errors or dead workers)"
    )
    failure_code: str | None
    failure_reason: str | None
    attempts: int
    chunk_count: int
    page_count: int | None
    metadata: dict[str, Any]
    acl: dict[str, Any] | None = Field(
        default=None, description='Who may read it: {"users": [...], "groups": [...], "tenant": bool}'
    )
    job_id: str | None
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None
    queued_at: datetime | None = Field(default=None, description="When the current version was (re-)queued")
    started_at: datetime | None = Field(default=None, description="When the latest attempt began")
    finished_at: datetime | None = Field(default=None, description="When it reached indexed, failed or dead_letter")

    @classmethod
    def build(cls, document: Document) -> DocumentOut:
        return cls(
            id=document.id,
            datastore_id=document.datastore_id,
            source_uri=document.source_uri,
            title=document.title,
            mime_type=document.mime_type,
            content_hash=document.content_hash,
            size_bytes=document.size_bytes,
            version=document.version,
            status=document.status,
            failure_code=document.failure_code,
            failure_reason=document.failure_reason,
            attempts=document.attempts,
            chunk_count=document.chunk_count,
            page_count=document.page_count,
            metadata=document.metadata_json,
            acl=document.acl,
            job_id=document.job_id,
            created_at=document.created_at,
            updated_at=document.updated_at,
            indexed_at=document.indexed_at,
            queued_at=document.queued_at,
            started_at=document.started_at,
            finished_at=document.finished_at,
        )


class DocumentList(BaseModel):
    items: list[DocumentOut]
    total: int


class JobOut(BaseModel):
    id: str
    datastore_id: str
    kind: str
    status: str = Field(description="queued, running, succeeded or completed_with_errors")
    total: int
    done: int
    failed: int
    progress: float = Field(description="done / total, 0..1")
    docs_per_second: float | None = Field(
        default=None, description="Documents finished per second since the job was created"
    )
    eta_seconds: float | None = Field(
        default=None, description="Estimated seconds until the job ends at that rate (0 when finished)"
    )
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def build(cls, job: Job) -> JobOut:
        estimate = JobProgress.of(job)
        return cls(
            id=job.id,
            datastore_id=job.datastore_id,
            kind=job.kind,
            status=job.status,
            total=job.total,
            done=job.done,
            failed=job.failed,
            progress=estimate.fraction,
            docs_per_second=estimate.docs_per_second,
            eta_seconds=estimate.eta_seconds,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )


class UploadAccepted(BaseModel):
    job: JobOut
    document_id: str


class BatchDocument(BaseModel):
    filename: str
    document_id: str


class BatchRefusal(BaseModel):
    filename: str
    code: str = Field(description="file_too_large, unsupported_format, unsupported_content or invalid_request")
    message: str


class BatchAccepted(BaseModel):
    job: JobOut = Field(description="One job for every accepted file (total 0 and succeeded if none was)")
    documents: list[BatchDocument]
    refused: list[BatchRefusal] = Field(description="Files not accepted, with the error each would have had alone")


class SyncIn(BaseModel):
    source: str = Field(description="gs://bucket/prefix, read with the server's credentials")
    include: list[str] | None = Field(default=None, description="Globs of files to take (default: supported types)")
    exclude: list[str] = Field(default_factory=list, description="Globs of files to skip")
    delete: bool = Field(default=True, description="Remove documents whose object is gone from the prefix")


class RejectedFile(BaseModel):
    source_uri: str
    reason: str


class SyncOut(BaseModel):
    source: str
    listed: int = Field(description="Objects below the prefix")
    selected: int = Field(description="Of those, the ones the globs take")
    unchanged: int = Field(description="Selected objects not downloaded: unchanged since the last sync")
    submitted: int = Field(description="Objects downloaded and submitted (new or changed)")
    deleted: int = Field(description="Documents removed because their object is gone")
    rejected: list[RejectedFile] = Field(description="Objects refused (empty, too large, unsupported type)")
    job_ids: list[str] = Field(description="Jobs that index the submitted documents (GET /v1/jobs/{id})")

    @classmethod
    def build(cls, report: SyncReport) -> SyncOut:
        return cls(
            source=report.source,
            listed=report.listed,
            selected=report.selected,
            unchanged=report.unchanged,
            submitted=report.submitted,
            deleted=report.deleted,
            rejected=[RejectedFile(source_uri=uri, reason=reason) for uri, reason in report.rejected],
            job_ids=report.job_ids,
        )


class FilterIn(BaseModel):
    key: str = Field(description="A metadata key, or document_id, source_uri, title, mime_type.")
    op: FilterOp = "eq"
    value: Any


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4000)
    datastore_ids: list[str] = Field(min_length=1, description="Datastore ids or names.")
    filters: list[FilterIn] = Field(default_factory=list)
    top_k: int | None = Field(default=None, ge=1)
    mode: SearchMode = SearchMode.HYBRID


class SearchHitOut(BaseModel):
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
    page: int | None
    metadata: dict[str, Any]
    dense_rank: int | None
    lexical_rank: int | None
    dense_score: float | None
    lexical_score: float | None

    @classmethod
    def build(cls, hit: SearchHit) -> SearchHitOut:
        return cls(**hit.__dict__)


class SearchResponse(BaseModel):
    hits: list[SearchHitOut]
    timings_ms: dict[str, float]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=8000)
    datastore_ids: list[str] = Field(min_length=1, description="Datastore ids or names.")
    filters: list[FilterIn] = Field(default_factory=list)
    conversation_id: str | None = Field(default=None, description="Continue a stored conversation.")
    stream: bool = Field(
        default=False,
        description="Server-Sent Events: retrieval, claim (each verified claim as it passes), notice, done",
    )
    top_k: int | None = Field(default=None, ge=1, le=50)
    draft: bool = Field(
        default=False,
        description="With `stream`: also send the model's raw text as `draft` events, unverified (for debugging)",
    )


class CitationOut(BaseModel):
    number: int
    chunk_id: int
    document_id: str
    datastore_id: str
    title: str
    source_uri: str
    start_offset: int
    end_offset: int
    page: int | None
    heading_path: list[str]
    quote: str


class ClaimOut(BaseModel):
    text: str
    citations: list[int]
    supported: bool
    score: float
    reasons: list[str]


class AnswerOut(BaseModel):
    answer: str = Field(description="The answer with inline [n] markers that refer to `citations`.")
    citations: list[CitationOut]
    claims: list[ClaimOut] = Field(description="Every claim the model wrote, with its groundedness.")
    refused: bool = Field(description="True when the documents don't answer the question.")
    mode: str = Field(description="generated, extractive (no language model) or refusal")
    notice: str | None
    retrieved: list[SearchHitOut]
    conversation_id: str
    message_id: int | None = Field(default=None, description="The stored answer (for feedback)")
    standalone_query: str
    timings_ms: dict[str, float]
    usage: dict[str, int] | None = Field(
        default=None, description="Tokens of the model call (prompt, completion, total); null: no model call"
    )
    fallback: dict[str, Any] | None = Field(
        default=None,
        description="Set when generation was stopped early for the quoted answer: reason, after_claims, at_ms",
    )

    @classmethod
    def build(cls, result: AnswerResult) -> AnswerOut:
        return cls(
            answer=result.answer,
            citations=[CitationOut(**c.__dict__) for c in result.citations],
            claims=[ClaimOut(**c.__dict__) for c in result.claims],
            refused=result.refused,
            mode=result.mode,
            notice=result.notice,
            retrieved=[SearchHitOut.build(h) for h in result.retrieved],
            conversation_id=result.conversation_id,
            message_id=result.message_id,
            standalone_query=result.standalone_query,
            timings_ms=result.timings_ms,
            usage=result.usage,
            fallback=result.fallback,
        )


class ConversationOut(BaseModel):
    id: str
    title: str
    datastore_ids: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, conversation: Conversation) -> ConversationOut:
        return cls(
            id=conversation.id,
            title=conversation.title,
            datastore_ids=list(conversation.datastore_ids),
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
        )


class ConversationList(BaseModel):
    items: list[ConversationOut]


class MessageOut(BaseModel):
    id: int
    role: str
    content: str
    standalone_query: str | None
    details: dict[str, Any]
    created_at: datetime | None
    withheld: bool = Field(description="The answer cites a document the caller can no longer read: content withheld")
    feedback: dict[str, Any] | None = Field(description="The caller's latest feedback on this answer")


class ConversationRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(description="1: helpful, -1: not helpful")
    comment: str = Field(default="", max_length=4000)


class FeedbackOut(BaseModel):
    id: int
    conversation_id: str
    message_id: int
    rating: int
    comment: str
    created_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class AclIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[str] = Field(default_factory=list, description="User names (as in tokens and API key users)")
    groups: list[str] = Field(default_factory=list, description="Group names; an unknown group matches nobody")
    tenant: bool = Field(default=False, description="Everyone in the tenant")


class MeOut(BaseModel):
    tenant_id: str
    name: str
    role: Role
    groups: list[str]
    method: str = Field(description="api_key, jwt or anonymous (access control off)")
    key_id: str | None


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="1-63 lowercase letters, digits or '-'", examples=["acme"])
    name: str = ""
    admin_user: str = Field(default="admin", description="The tenant's first admin, who gets the returned key")


class TenantOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique in the tenant; what document ACLs and tokens name", examples=["ana@acme.com"])
    role: Role = Role.READER
    email: str | None = None
    display_name: str = ""
    kind: Literal["user", "service_account"] = "user"
    groups: list[str] = Field(default_factory=list, description="Existing groups to join")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None
    email: str | None = None
    display_name: str | None = None


class UserOut(BaseModel):
    id: str
    name: str
    email: str | None
    display_name: str
    kind: str
    role: str
    disabled: bool
    groups: list[str]
    created_at: datetime

    @classmethod
    def build(cls, user: User, groups: list[str]) -> UserOut:
        return cls(
            id=user.id,
            name=user.name,
            email=user.email,
            display_name=user.display_name,
            kind=user.kind,
            role=user.role,
            disabled=user.disabled,
            groups=groups,
            created_at=user.created_at,
        )


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    members: list[str] = Field(default_factory=list, description="User names")


class GroupOut(BaseModel):
    id: str
    name: str
    description: str
    members: list[str]


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[str] = Field(min_length=1)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(description="The user or service account the key acts as")
    role: Role | None = Field(default=None, description="At most the user's role; default: the user's role")
    name: str = Field(default="", max_length=200)
    expires_in_days: float | None = Field(default=None, gt=0, description="Unset: never expires")


class ApiKeyOut(BaseModel):
    id: str
    user: str
    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def build(cls, key: ApiKey, user: str) -> ApiKeyOut:
        return cls(
            id=key.id,
            user=user,
            name=key.name,
            role=key.role,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
        )


class IssuedKeyOut(ApiKeyOut):
    token: str = Field(description="The key: shown this once, never stored. Send as 'Authorization: Bearer <token>'")


class TenantCreated(BaseModel):
    tenant: TenantOut
    admin_key: IssuedKeyOut

    @classmethod
    def build(cls, tenant: Tenant, issued: IssuedKey) -> TenantCreated:
        key = ApiKeyOut.build(issued.key, issued.user_name).model_dump()
        return cls(
            tenant=TenantOut(id=tenant.id, name=tenant.name, created_at=tenant.created_at),
            admin_key=IssuedKeyOut(**key, token=issued.token),
        )
