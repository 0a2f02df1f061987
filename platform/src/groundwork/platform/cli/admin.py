"""`groundwork admin ...` (users, groups, API keys, tenants, the audit log) and `groundwork acl set`.

With `--url` (or GROUNDWORK_URL) the commands call the server's admin API with an admin key (GROUNDWORK_API_KEY,
or the server's bootstrap key file when this machine can read it); without, they open the metadata store and act
as the tenant's operator (`--tenant`, default: the operator tenant) — also while a server runs, since they touch
no index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from groundwork.platform.access.acl import DocumentAcl
from groundwork.platform.backends import RemoteBackend
from groundwork.platform.cli.admin_backends import AdminBackend, LocalAdmin, RemoteAdmin
from groundwork.platform.config import Settings
from groundwork.platform.db.models import Role
from groundwork.platform.db.session import Database
from groundwork.platform.errors import PlatformError
from groundwork.platform.logging import configure_logging

admin_app = typer.Typer(help="Manage users, groups, API keys and tenants; read the audit log.", no_args_is_help=True)
user_app = typer.Typer(help="Users and service accounts.", no_args_is_help=True)
group_app = typer.Typer(help="Groups (what document ACLs name).", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants (operator tenant admins only).", no_args_is_help=True)
acl_app = typer.Typer(help="Document ACLs.", no_args_is_help=True)
admin_app.add_typer(user_app, name="user")
admin_app.add_typer(group_app, name="group")
admin_app.add_typer(key_app, name="key")
admin_app.add_typer(tenant_app, name="tenant")

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

UrlOption = Annotated[
    str | None, typer.Option("--url", help="A running server (default: GROUNDWORK_URL; unset: local)")
]
TenantOption = Annotated[str | None, typer.Option("--tenant", help="Tenant, when working locally (default: operator)")]


@contextmanager
def _admin(url: str | None, tenant: str | None) -> Iterator[AdminBackend]:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    target = url or settings.url
    if target:
        remote = RemoteBackend(target, api_key=settings.client_api_key())
        try:
            yield RemoteAdmin(remote)
        finally:
            remote.close()
        return
    database = Database(settings.database_url(), pool_size=settings.database.pool_size)
    try:
        database.migrate()
        yield LocalAdmin(database, settings, tenant or settings.default_tenant)
    finally:
        database.close()


def _run(url: str | None, tenant: str | None, action: Callable[[AdminBackend], Any]) -> Any:
    try:
        with _admin(url, tenant) as backend:
            return action(backend)
    except PlatformError as exc:
        console.print(f"[red]error[/red] ({exc.code}): {exc}")
        raise typer.Exit(code=1) from exc


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[", ".join(v) if isinstance(v := row.get(c), list) else str(v or "") for c in columns])
    out.print(table)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="Unique in the tenant; what ACLs and tokens name (e.g. an email)")],
    role: Annotated[Role, typer.Option(help="reader, editor or admin")] = Role.READER,
    email: Annotated[str | None, typer.Option()] = None,
    group: Annotated[list[str] | None, typer.Option(help="Existing group to join (repeatable)")] = None,
    service_account: Annotated[bool, typer.Option(help="A service account instead of a person")] = False,
    url: UrlOption = None,
    tenant: TenantOption = None,
) -> None:
    """Create a user or service account."""
    kind = "service_account" if service_account else "user"
    user = _run(url, tenant, lambda b: b.create_user(name, role=role, email=email, groups=group or [], kind=kind))
    out.print(f"created {user['kind']} {user['name']!r} ({user['role']}), id {user['id']}")


@user_app.command("list")
def user_list(url: UrlOption = None, tenant: TenantOption = None) -> None:
    """List users and service accounts."""
    _table(_run(url, tenant, lambda b: b.list_users()), ["name", "kind", "role", "disabled", "groups", "email"])


@user_app.command("disable")
def user_disable(name: str, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Disable a user: its keys and tokens are refused from the next request on."""
    _run(url, tenant, lambda b: b.update_user(name, disabled=True))
    out.print(f"disabled {name!r}")


@user_app.command("enable")
def user_enable(name: str, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Enable a disabled user."""
    _run(url, tenant, lambda b: b.update_user(name, disabled=False))
    out.print(f"enabled {name!r}")


@user_app.command("role")
def user_role(name: str, role: Role, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Change a user's role (its keys are capped at it)."""
    _run(url, tenant, lambda b: b.update_user(name, role=role))
    out.print(f"{name!r} is now {role.value}")


@user_app.command("delete")
def user_delete(name: str, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Delete a user with its keys and group memberships."""
    _run(url, tenant, lambda b: b.delete_user(name))
    out.print(f"deleted {name!r}")


@group_app.command("create")
def group_create(
    name: str,
    member: Annotated[list[str] | None, typer.Option(help="User to add (repeatable)")] = None,
    url: UrlOption = None,
    tenant: TenantOption = None,
) -> None:
    """Create a group."""
    _run(url, tenant, lambda b: b.create_group(name, member or []))
    out.print(f"created group {name!r}")


@group_app.command("list")
def group_list(url: UrlOption = None, tenant: TenantOption = None) -> None:
    """List groups with their members."""
    _table(_run(url, tenant, lambda b: b.list_groups()), ["name", "members"])


@group_app.command("add")
def group_add(group: str, users: list[str], url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Add users to a group."""
    _run(url, tenant, lambda b: b.add_members(group, users))
    out.print(f"added {', '.join(users)} to {group!r}")


@group_app.command("remove")
def group_remove(group: str, user: str, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Remove a user from a group (effective from its next request)."""
    _run(url, tenant, lambda b: b.remove_member(group, user))
    out.print(f"removed {user!r} from {group!r}")


@key_app.command("create")
def key_create(
    user: Annotated[str, typer.Option(help="The user or service account the key acts as")],
    role: Annotated[Role | None, typer.Option(help="At most the user's role (default: the user's)")] = None,
    name: Annotated[str, typer.Option(help="What the key is for")] = "",
    expires_days: Annotated[float | None, typer.Option(help="Days until it expires (default: never)")] = None,
    url: UrlOption = None,
    tenant: TenantOption = None,
) -> None:
    """Create an API key; the key is printed once (on stdout, alone, so it can be captured)."""
    issued = _run(url, tenant, lambda b: b.create_key(user, role=role, name=name, expires_in_days=expires_days))
    console.print(f"key {issued['id']} for {issued['user']!r} ({issued['role']}); it is shown only now:")
    out.print(issued["token"])


@key_app.command("list")
def key_list(url: UrlOption = None, tenant: TenantOption = None) -> None:
    """List API keys (never their secrets)."""
    rows = _run(url, tenant, lambda b: b.list_keys())
    _table(rows, ["id", "user", "role", "name", "created_at", "expires_at", "revoked_at", "last_used_at"])


@key_app.command("revoke")
def key_revoke(key_id: str, url: UrlOption = None, tenant: TenantOption = None) -> None:
    """Revoke an API key (refused from the next request on)."""
    _run(url, tenant, lambda b: b.revoke_key(key_id))
    out.print(f"revoked {key_id}")


@tenant_app.command("create")
def tenant_create(
    tenant_id: Annotated[str, typer.Argument(help="1-63 lowercase letters, digits or '-'")],
    admin_user: Annotated[str, typer.Option(help="The tenant's first admin")] = "admin",
    url: UrlOption = None,
) -> None:
    """Create a tenant with its first admin user; prints that admin's API key once."""
    created = _run(url, None, lambda b: b.create_tenant(tenant_id, admin_user))
    console.print(f"tenant {created['tenant']['id']!r} created; admin {admin_user!r} key (shown only now):")
    out.print(created["admin_key"]["token"])


@admin_app.command("audit")
def audit(
    actor: Annotated[str | None, typer.Option(help="Only this user's entries")] = None,
    action: Annotated[str | None, typer.Option(help="search, answer, chat.completions, document.preview, ...")] = None,
    limit: Annotated[int, typer.Option(help="Entries to show, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    url: UrlOption = None,
    tenant: TenantOption = None,
) -> None:
    """Read the audit log: who asked what, which documents were shown or cited."""
    entries = _run(url, tenant, lambda b: b.audit(actor=actor, action=action, limit=limit))
    if as_json:
        out.print_json(json.dumps(entries, default=str))
        return
    for entry in entries:
        cited = ", ".join(d["title"] or f"{d['id']} (restricted)" for d in entry["cited"])
        out.print(
            f"{entry['at']}  {entry['actor']}  {entry['action']}  {entry.get('query') or ''}"
            f"  shown={len(entry['shown'])}  cited=[{cited}]"
        )


@acl_app.command("set")
def acl_set(
    datastore: str,
    document_id: str,
    user: Annotated[list[str] | None, typer.Option(help="User who may read it (repeatable)")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Group that may read it (repeatable)")] = None,
    everyone: Annotated[bool, typer.Option("--tenant", help="Everyone in the tenant may read it")] = False,
    url: UrlOption = None,
    tenant: TenantOption = None,
) -> None:
    """Replace who may read a document (no users, groups or --tenant: tenant admins only). Nothing is re-embedded."""
    declared = {"users": user or [], "groups": group or [], "tenant": everyone}
    document = _run(url, tenant, lambda b: b.set_acl(datastore, document_id, DocumentAcl.parse(declared)))
    out.print(f"{document['id']}: {json.dumps(document['acl'])}")
