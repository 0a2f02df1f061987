"""Document ACLs: who may read a document, and the SQL condition that lets a principal see only those.

A document is readable by a principal of its tenant when one of its ACL entries names the whole tenant, the
principal's name, or a group the principal belongs to; a document with no entries is readable by tenant admins
only. The condition is evaluated in the metadata store and its result (the allowed chunk ids) is handed to the
vector and lexical indexes, which rank only those: an unreadable chunk never competes, so it can neither appear
nor push a readable one out of the top k. Changing an ACL rewrites rows here and nothing in the indexes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, insert, or_, select, update
from sqlalchemy.orm import Session

from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import AclKind, Datastore, Document, DocumentAclEntry, Role
from groundwork.platform.db.session import Database
from groundwork.platform.errors import InvalidRequestError, NotFoundError

MAX_ACL_ENTRIES = 1000
MAX_NAME_LENGTH = 320


def check_name(value: object, what: str) -> str:
    """A user or group name: 1-320 characters, no control or format characters (they could hide one name
    inside another). Any other character is allowed: names are compared exactly and always travel as bound
    parameters, never inside query text."""
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidRequestError(f"{what} must be a string of 1-{MAX_NAME_LENGTH} characters")
    if value != value.strip() or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise InvalidRequestError(f"{what} {value!r} has control characters or surrounding spaces")
    return value


@dataclass(frozen=True)
class DocumentAcl:
    """Who may read a document. Empty (no users, no groups, not tenant-wide): tenant admins only."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tenant: bool = False
    """Everyone in the document's tenant."""

    @classmethod
    def tenant_wide(cls) -> DocumentAcl:
        return cls(tenant=True)

    @classmethod
    def parse(cls, raw: Any, *, where: str = "acl") -> DocumentAcl:
        """From JSON: `{"users": [...], "groups": [...], "tenant": false}` (every key optional), or the strings
        `"tenant"` (everyone in the tenant) and `"private"` (tenant admins only)."""
        if raw == "tenant":
            return cls.tenant_wide()
        if raw == "private":
            return cls()
        if not isinstance(raw, dict):
            raise InvalidRequestError(
                f'{where} must be an object {{"users", "groups", "tenant"}}, "tenant" or "private"'
            )
        unknown = set(raw) - {"users", "groups", "tenant"}
        if unknown:
            raise InvalidRequestError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        tenant = raw.get("tenant", False)
        if not isinstance(tenant, bool):
            raise InvalidRequestError(f"{where}.tenant must be true or false")
        users = cls._names(raw.get("users", []), f"{where}.users")
        groups = cls._names(raw.get("groups", []), f"{where}.groups")
        if len(users) + len(groups) > MAX_ACL_ENTRIES:
            raise InvalidRequestError(f"{where} names more than {MAX_ACL_ENTRIES} users and groups")
        return cls(users=users, groups=groups, tenant=tenant)

    @staticmethod
    def _names(raw: Any, where: str) -> tuple[str, ...]:
        if not isinstance(raw, list):
            raise InvalidRequestError(f"{where} must be a list of names")
        return tuple(sorted({check_name(item, f"{where} entry") for item in raw}))

    @property
    def is_empty(self) -> bool:
        return not (self.tenant or self.users or self.groups)

    def to_json(self) -> dict[str, Any]:
        return {"users": list(self.users), "groups": list(self.groups), "tenant": self.tenant}

    def entries(self) -> list[tuple[str, str]]:
        rows = [(AclKind.TENANT.value, "")] if self.tenant else []
        rows += [(AclKind.USER.value, user) for user in self.users]
        rows += [(AclKind.GROUP.value, group) for group in self.groups]
        return rows


def write_acl(session: Session, document_ids: Iterable[str], acl: DocumentAcl) -> None:
    """Replace the ACL of documents (rows and the declared copy on the document) in the caller's transaction."""
    ids = list(document_ids)
    if not ids:
        return
    session.execute(
        update(Datastore)
        .where(Datastore.id.in_(select(Document.datastore_id).where(Document.id.in_(ids))))
        .values(acl_generation=Datastore.acl_generation + 1)
    )
    session.execute(delete(DocumentAclEntry).where(DocumentAclEntry.document_id.in_(ids)))
    rows = [{"document_id": d, "kind": kind, "value": value} for d in ids for kind, value in acl.entries()]
    if rows:
        session.execute(insert(DocumentAclEntry), rows)
    for document in session.scalars(select(Document).where(Document.id.in_(ids))):
        document.acl = acl.to_json()


def readable_by(principal: Principal) -> ColumnElement[bool]:
    """The condition (over `Document`) that `principal` may read the document."""
    same_tenant = Document.tenant_id == principal.tenant_id
    if principal.reads_everything:
        return same_tenant
    if principal.audience:
        return and_(same_tenant, *(readable_by(member) for member in principal.audience))
    named = [DocumentAclEntry.kind == AclKind.TENANT.value]
    if principal.method == "tenant_public":
        named = named[:1]
        return and_(
            same_tenant,
            exists(select(DocumentAclEntry.document_id).where(DocumentAclEntry.document_id == Document.id, *named)),
        )
    named.append(and_(DocumentAclEntry.kind == AclKind.USER.value, DocumentAclEntry.value == principal.name))
    if principal.groups:
        named.append(
            and_(DocumentAclEntry.kind == AclKind.GROUP.value, DocumentAclEntry.value.in_(sorted(principal.groups)))
        )
    granted = exists(
        select(DocumentAclEntry.document_id).where(DocumentAclEntry.document_id == Document.id, or_(*named))
    )
    if principal.role == Role.ADMIN:
        unlisted = ~exists(select(DocumentAclEntry.document_id).where(DocumentAclEntry.document_id == Document.id))
        return and_(same_tenant, or_(granted, unlisted))
    return and_(same_tenant, granted)


def manageable_by(principal: Principal) -> ColumnElement[bool]:
    """Documents whose ACL, status and existence `principal` may change: any in the tenant for admins, those
    it may read for editors."""
    if principal.role == Role.ADMIN:
        return Document.tenant_id == principal.tenant_id
    return readable_by(principal)


def change_acl(
    database: Database, principal: Principal, datastore: str, document_id: str, acl: DocumentAcl
) -> Document:
    """Replace the ACL of a document of `datastore` (id or name) that `principal` may manage; the next search sees
    the change. Nothing is re-embedded or re-indexed. Anything else is `NotFoundError`."""
    principal.require(Role.EDITOR, "changing a document's ACL")
    with database.session() as session:
        document = session.scalar(
            select(Document)
            .join(Datastore, Datastore.id == Document.datastore_id)
            .where(
                Document.id == document_id,
                Datastore.tenant_id == principal.tenant_id,
                (Datastore.id == datastore) | (Datastore.name == datastore),
                manageable_by(principal),
            )
        )
        if document is None:
            raise NotFoundError(f"document {document_id} not found in datastore {datastore}")
        write_acl(session, [document_id], acl)
        return document
