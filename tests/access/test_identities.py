"""Identities on SQLite and PostgreSQL: API keys are stored hashed, resolve to their principal, and stop working
the moment they are revoked, expire, or their user is disabled; management stays inside the actor's tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from groundwork.platform.access.identities import IdentityService
from groundwork.platform.access.principal import Principal
from groundwork.platform.db.models import ApiKey, Role, utcnow
from groundwork.platform.db.session import Database
from groundwork.platform.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)


@pytest.fixture
def identities(database_url: str) -> IdentityService:
    database = Database(database_url)
    database.migrate()
    service = IdentityService(database, operator_tenant="default")
    for tenant in ("default", "acme", "globex"):
        service.ensure_tenant(tenant)
    return service


def admin_of(tenant: str) -> Principal:
    return Principal(tenant_id=tenant, name="root", role=Role.ADMIN)


def test_a_key_resolves_to_its_user_groups_and_role_and_only_its_hash_is_stored(identities: IdentityService) -> None:
    acme = admin_of("acme")
    identities.create_group(acme, "sre")
    identities.create_group(acme, "payments")
    identities.create_user(acme, "ana@acme.com", role=Role.EDITOR, groups=["sre"])
    issued = identities.create_key(acme, "ana@acme.com", role=Role.READER, name="laptop")
    assert issued.token.startswith(f"gw_{issued.key.id}_")
    with identities._db.session() as session:  # the secret is nowhere in the database
        stored = session.scalar(select(ApiKey).where(ApiKey.id == issued.key.id))
        assert stored is not None and issued.token.split("_", 2)[2] not in stored.secret_sha256
    principal = identities.authenticate_key(issued.token)
    assert (principal.tenant_id, principal.name, principal.role) == ("acme", "ana@acme.com", Role.READER)
    assert principal.groups == frozenset({"sre"})
    identities.add_members(acme, "payments", ["ana@acme.com"])
    assert identities.authenticate_key(issued.token).groups == {"sre", "payments"}  # the next request sees it
    identities.remove_members(acme, "sre", ["ana@acme.com"])
    assert identities.authenticate_key(issued.token).groups == {"payments"}


@pytest.mark.parametrize(
    "spoil",
    ["revoke", "expire", "disable", "delete user", "wrong secret", "unknown id", "malformed", "empty"],
)
def test_a_spoiled_key_is_refused(identities: IdentityService, spoil: str) -> None:
    acme = admin_of("acme")
    identities.create_user(acme, "bo", role=Role.READER)
    issued = identities.create_key(acme, "bo", expires_at=utcnow() + timedelta(days=1))
    token = issued.token
    identities.authenticate_key(token)
    if spoil == "revoke":
        identities.revoke_key(acme, issued.key.id)
    elif spoil == "expire":
        with identities._db.session() as session:
            session.get_one(ApiKey, issued.key.id).expires_at = utcnow() - timedelta(seconds=1)
    elif spoil == "disable":
        identities.update_user(acme, "bo", disabled=True)
    elif spoil == "delete user":
        identities.delete_user(acme, "bo")
    elif spoil == "wrong secret":
        token = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    elif spoil == "unknown id":
        token = "gw_0123456789abcdef_" + token.split("_", 2)[2]
    elif spoil == "malformed":
        token = "gw_not-a-key"
    else:
        token = ""
    with pytest.raises(AuthenticationError):
        identities.authenticate_key(token)


def test_roles_cap_keys_and_gate_management(identities: IdentityService) -> None:
    acme = admin_of("acme")
    identities.create_user(acme, "reader", role=Role.READER)
    with pytest.raises(InvalidRequestError, match="cannot be admin"):
        identities.create_key(acme, "reader", role=Role.ADMIN)
    reader = identities.authenticate_key(identities.create_key(acme, "reader").token)
    for action in (
        lambda: identities.create_user(reader, "x"),
        lambda: identities.create_group(reader, "g"),
        lambda: identities.create_key(reader, "reader"),
        lambda: identities.list_users(reader),
        lambda: identities.revoke_key(reader, "0123456789abcdef"),
    ):
        with pytest.raises(PermissionDeniedError):
            action()
    identities.create_user(acme, "editor", role=Role.EDITOR)
    key = identities.create_key(acme, "editor")
    identities.update_user(acme, "editor", role=Role.READER)  # a demotion caps the user's existing keys at once
    assert identities.authenticate_key(key.token).role == Role.READER
    with pytest.raises(ConflictError):
        identities.create_user(acme, "reader")


def test_management_never_reaches_another_tenant(identities: IdentityService) -> None:
    acme, globex = admin_of("acme"), admin_of("globex")
    identities.create_user(acme, "ana")
    identities.create_group(acme, "sre")
    key = identities.create_key(acme, "ana")
    for action in (
        lambda: identities.get_user(globex, "ana"),
        lambda: identities.update_user(globex, "ana", disabled=True),
        lambda: identities.delete_user(globex, "ana"),
        lambda: identities.add_members(globex, "sre", ["ana"]),
        lambda: identities.revoke_key(globex, key.key.id),
        lambda: identities.create_key(globex, "ana"),
        lambda: identities.create_user(globex, "x", tenant_id="acme"),
    ):
        with pytest.raises(NotFoundError):
            action()
    assert [u.name for u in identities.list_users(globex)] == []
    assert identities.list_keys(globex) == []
    with pytest.raises(PermissionDeniedError):
        identities.create_tenant(acme, "initech")  # only the operator tenant's admins create tenants
    identities.create_tenant(admin_of("default"), "initech")
    assert identities.authenticate_key(key.token).tenant_id == "acme"


def test_token_claims_count_only_groups_the_tenant_has(identities: IdentityService) -> None:
    acme = admin_of("acme")
    identities.create_group(acme, "sre")
    principal = identities.principal_from_claims(
        tenant_id="acme", name="cy@acme.com", role=Role.READER, claimed_groups=["sre", "ghost", ""], subject="s1"
    )
    assert principal.groups == frozenset({"sre"})
    with pytest.raises(AuthenticationError):
        identities.principal_from_claims(
            tenant_id="nope", name="cy@acme.com", role=Role.READER, claimed_groups=[], subject="s1"
        )
    identities.create_user(acme, "cy@acme.com")
    identities.update_user(acme, "cy@acme.com", disabled=True)
    with pytest.raises(AuthenticationError):
        identities.principal_from_claims(
            tenant_id="acme", name="cy@acme.com", role=Role.READER, claimed_groups=[], subject="s1"
        )


def test_bootstrap_creates_one_admin_key_per_tenant_only_when_there_is_none(identities: IdentityService) -> None:
    first = identities.bootstrap_admin("acme")
    assert first is not None
    assert identities.authenticate_key(first.token).role == Role.ADMIN
    assert identities.bootstrap_admin("acme") is None
    identities.revoke_key(admin_of("acme"), first.key.id)
    again = identities.bootstrap_admin("acme")  # locked out: a new key, as a restart would write
    assert again is not None and identities.authenticate_key(again.token).name == "admin"
