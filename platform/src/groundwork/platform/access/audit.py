"""The audit log: who asked what, and which documents were shown or cited, per request.

Entries hold ids and the principal's own words (its query), never document text or answers. When an admin
reads the log, each document id comes with its title only if that admin may read the document; otherwise it
is marked restricted, and the entry's query is withheld too: a question asked about a document can quote it.
So the log tells an admin nothing about a document that its ACL hides from them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from groundwork.platform.access.acl import readable_by
from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import AuditEvent, Document, Role
from groundwork.platform.db.session import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditedDocument:
    id: str
    title: str | None
    """None when the reader of the log may not read the document."""
    restricted: bool


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    key_id: str | None
    action: str
    request_id: str
    query: str | None
    """None when withheld (the entry showed or cited a document the reader of the log may not read)."""
    datastore_ids: list[str]
    shown: list[AuditedDocument]
    cited: list[AuditedDocument]
    details: dict[str, Any] = field(default_factory=dict)
    query_withheld: bool = False


class AuditLog:
    def __init__(self, database: Database) -> None:
        self._db = database

    def record(
        self,
        principal: Principal,
        action: str,
        *,
        request_id: str = "-",
        query: str | None = None,
        datastore_ids: Sequence[str] = (),
        shown: Sequence[str] = (),
        cited: Sequence[str] = (),
        details: dict[str, Any] | None = None,
    ) -> None:
        with self._db.session() as session:
            session.add(
                AuditEvent(
                    tenant_id=principal.tenant_id,
                    actor=principal.name,
                    key_id=principal.key_id,
                    action=action,
                    request_id=request_id,
                    query=query,
                    datastore_ids=list(dict.fromkeys(datastore_ids)),
                    shown_document_ids=list(dict.fromkeys(shown)),
                    cited_document_ids=list(dict.fromkeys(cited)),
                    details=details or {},
                )
            )

    def entries(
        self,
        reader: Principal,
        *,
        actor: str | None = None,
        action: str | None = None,
        document_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """The tenant's entries, newest first (admins only)."""
        reader.require(Role.ADMIN, "reading the audit log")
        query = select(AuditEvent).where(AuditEvent.tenant_id == reader.tenant_id)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if until is not None:
            query = query.where(AuditEvent.at < until)
        with self._db.session() as session:
            events = list(session.scalars(query.order_by(AuditEvent.id.desc())))
            if document_id is not None:
                events = [e for e in events if document_id in e.shown_document_ids + e.cited_document_ids]
            events = events[offset : offset + limit]
            ids = {d for e in events for d in (*e.shown_document_ids, *e.cited_document_ids)}
            titles = dict(
                session.execute(
                    select(Document.id, Document.title).where(Document.id.in_(sorted(ids)), readable_by(reader))
                ).all()
            )

        def documents(document_ids: Sequence[str]) -> list[AuditedDocument]:
            return [AuditedDocument(d, titles.get(d), d not in titles) for d in document_ids]

        entries: list[AuditEntry] = []
        for event in events:
            shown, cited = documents(event.shown_document_ids), documents(event.cited_document_ids)
            withheld = any(d.restricted for d in (*shown, *cited))
            entries.append(
                AuditEntry(
                    id=event.id,
                    at=event.at,
                    actor=event.actor,
                    key_id=event.key_id,
                    action=event.action,
                    request_id=event.request_id,
                    query=None if withheld else event.query,
                    datastore_ids=list(event.datastore_ids),
                    shown=shown,
                    cited=cited,
                    details=dict(event.details),
                    query_withheld=withheld,
                )
            )
        return entries
