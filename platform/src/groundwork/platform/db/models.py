"""Tables of the metadata store. The metadata store is the source of truth; indexes are derived from it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("datastore_id", "source_uri", name="uq_document_source"),
        Index("ix_documents_datastore_status", "datastore_id", "status"),
        Index("ix_documents_status_updated", "status", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    datastore_id: Mapped[str] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    source_uri: Mapped[str] = mapped_column(String(2000))
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
    """Reserved for access control (who may read this document)."""
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
    __table_args__ = (Index("ix_conversations_tenant_updated", "tenant_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
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
