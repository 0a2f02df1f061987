"""Tables of the metadata store. The metadata store is the source of truth; indexes are derived from it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PARSING = "parsing"
    EMBEDDING = "embedding"
    INDEXED = "indexed"
    FAILED = "failed"
    """Permanent: the document cannot be processed (parse error, empty, too many pages); not retried."""
    DEAD_LETTER = "dead_letter"
    """Gave up after `ingestion.max_attempts` attempts that ended in an unexpected error or a dead worker."""


IN_FLIGHT_STATUSES = (DocumentStatus.QUEUED, DocumentStatus.PARSING, DocumentStatus.EMBEDDING)
TERMINAL_STATUSES = (DocumentStatus.INDEXED, DocumentStatus.FAILED, DocumentStatus.DEAD_LETTER)
FAILED_STATUSES = (DocumentStatus.FAILED, DocumentStatus.DEAD_LETTER)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    COMPLETED_WITH_ERRORS = "completed_with_errors"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}  # noqa: RUF012


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Datastore(Base):
    __tablename__ = "datastores"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_datastore_tenant_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    embedding_model: Mapped[str] = mapped_column(String(300))
    index_generation: Mapped[int] = mapped_column(BigInteger, default=0)
    """Bumped in every transaction that changes the datastore's chunks; index manifests record it."""
    acl_generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Bumped in every transaction that changes an ACL of one of its documents (searches cache what a principal
    may read per index and ACL generation)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("datastore_id", "source_uri", "owner_key", name="uq_document_source"),
        Index("ix_documents_datastore_status", "datastore_id", "status"),
        Index("ix_documents_status_updated", "status", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    datastore_id: Mapped[str] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    source_uri: Mapped[str] = mapped_column(String(2000))
    owner_key: Mapped[str] = mapped_column(String(300), default="", server_default="")
    """Empty for the document of a source URI; a principal's key for its own upload of a URI whose document it may
    not read (see `DocumentService.submit`): each principal sees one document per URI, and none learns of another's."""
    title: Mapped[str] = mapped_column(String(1000), default="")
    mime_type: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    """sha256 of the bytes of the current version."""
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    blob_key: Mapped[str] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    indexed_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    """content_hash of the version whose chunks are in the indexes (None: none are)."""
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.QUEUED)
    failure_code: Mapped[str | None] = mapped_column(String(100), default=None)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int | None] = mapped_column(Integer, default=None)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acl: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """Who may read this document, as declared (`{"users": [...], "groups": [...], "tenant": bool}`); the
    `document_acl` rows derived from it are what access checks use."""
    job_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    """Last change of any kind; the reaper re-enqueues in-flight documents untouched for too long."""
    indexed_at: Mapped[datetime | None] = mapped_column(default=None)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the current version was (re-)queued."""
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the latest attempt claimed it."""
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    """When it reached a terminal status (indexed, failed, dead_letter)."""


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (
        Index("ix_chunks_document", "document_id"),
        Index("ix_chunks_datastore", "datastore_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    """Also the id of the chunk's vector and lexical entry."""
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    datastore_id: Mapped[str] = mapped_column(String(32))
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_offset: Mapped[int] = mapped_column(Integer)
    end_offset: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    token_count: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    """float32 vector; lets an index be rebuilt without re-embedding."""


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    datastore_id: Mapped[str] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(30), default=JobStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_tenant_updated", "tenant_id", "updated_at"),
        Index("ix_conversations_owner_updated", "tenant_id", "owner", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    owner: Mapped[str] = mapped_column(String(320), default="")
    """The user (principal name) whose conversation this is; nobody else can read or continue it."""
    title: Mapped[str] = mapped_column(String(300), default="")
    datastore_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    """`user` or `assistant`."""
    content: Mapped[str] = mapped_column(Text)
    standalone_query: Mapped[str | None] = mapped_column(Text, default=None)
    """For a user turn: the question rewritten to stand alone (what retrieval used)."""
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """For an assistant turn: citations, claims, refusal flag, mode."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Role(StrEnum):
    """What a principal may do within its tenant; each role includes the ones before it."""

    READER = "reader"
    """Search, ask, read the documents its ACLs allow, keep conversations, give feedback."""
    EDITOR = "editor"
    """Also create datastores, upload, sync, retry and delete documents, change the ACLs of documents it reads."""
    ADMIN = "admin"
    """Also manage users, groups, API keys and every document's ACL, read the audit log, and read documents
    whose ACL is empty."""


class User(Base):
    """A person or a service account of one tenant. `name` is what document ACLs name."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_user_tenant_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(320))
    """Unique in the tenant, e.g. an email address or a login; identity tokens map to it."""
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    display_name: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20), default="user")
    """`user` or `service_account`."""
    role: Mapped[str] = mapped_column(String(20), default=Role.READER)
    """The highest role this user's API keys may carry."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    """A disabled user's keys stop working at once."""
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    """Who manages it: `local` (the admin API or CLI), `oidc` (created at its first sign-in), `scim`."""
    external_id: Mapped[str | None] = mapped_column(String(320), default=None)
    """The identity provider's id of it (SCIM `externalId`)."""
    scim_profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The other SCIM attributes its provisioning client set (kept and returned as sent; never a password)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_group_tenant_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    """What document ACLs and identity-token group claims name. An ACL naming a group that does not exist
    matches nobody."""
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    """`local` (the admin API or CLI) or `scim`."""
    external_id: Mapped[str | None] = mapped_column(String(320), default=None)
    scim_profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class ApiKey(Base):
    """An API key: `gw_<id>_<secret>`. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class AclKind(StrEnum):
    TENANT = "tenant"
    """Everyone in the document's tenant (`value` is empty)."""
    USER = "user"
    GROUP = "group"


class DocumentAclEntry(Base):
    """One reader of a document: the whole tenant, a user (by name) or a group (by name). A document with no
    entries is readable by tenant admins only."""

    __tablename__ = "document_acl"
    __table_args__ = (Index("ix_document_acl_principal", "kind", "value"),)

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(320), primary_key=True, default="")


class AuditEvent(Base):
    """Who asked what and which documents were shown or cited. Holds ids and the principal's own words,
    never document text: an admin reading the log learns nothing of a document it may not read."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    """The principal's name (user or service account)."""
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    action: Mapped[str] = mapped_column(String(60))
    """`search`, `answer`, `chat.completions`, `document.read`, `acl.update`, `key.create`, ..."""
    request_id: Mapped[str] = mapped_column(String(64), default="-")
    query: Mapped[str | None] = mapped_column(Text, default=None)
    """The question or query as the principal sent it."""
    datastore_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    shown_document_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Documents whose passages were returned (search hits, retrieved sources, previews)."""
    cited_document_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Ids and outcomes only (refused, mode, target user/key), never document text."""


class Feedback(Base):
    """A thumbs up or down (with an optional comment) on one assistant message."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(320))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    rating: Mapped[int] = mapped_column(Integer)
    """+1 (helpful) or -1 (not helpful)."""
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
