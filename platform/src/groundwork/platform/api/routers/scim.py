"""SCIM 2.0 at `/scim/v2` (RFC 7644): Users, Groups, ServiceProviderConfig, Schemas, ResourceTypes; filtering,
pagination, PATCH. Authenticated with the tenant's SCIM token (`POST /v1/admin/scim-tokens`). Bodies are
`application/scim+json`; errors are SCIM Error messages."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    Error,
    ETag,
    Filter,
    Group,
    ListResponse,
    Meta,
    Patch,
    PatchOp,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
    User,
)
from starlette.concurrency import run_in_threadpool

from groundwork.platform.access.principal import Principal
from groundwork.platform.access.scim import MAX_PAGE, ScimService
from groundwork.platform.api.deps import ServicesDep
from groundwork.platform.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PlatformError,
)
from groundwork.platform.services import Services

router = APIRouter(prefix="/scim/v2", tags=["scim"], include_in_schema=True)
MEDIA_TYPE = "application/scim+json"
P = ParamSpec("P")


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=str), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    return _json(Error(status=status, scim_type=scim_type, detail=detail).model_dump(), status)


def scim_errors(handler: Callable[P, Any]) -> Callable[P, Any]:
    """Platform and SCIM exceptions as SCIM Error responses."""

    @functools.wraps(handler)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return await handler(*args, **kwargs)
        except AuthenticationError as exc:
            return _error(401, str(exc))
        except NotFoundError as exc:
            return _error(404, str(exc))
        except ConflictError as exc:
            return _error(409, str(exc), "uniqueness")
        except InvalidRequestError as exc:
            return _error(400, str(exc), "invalidFilter" if "filter" in str(exc) else "invalidValue")
        except SCIMException as exc:
            error = exc.to_error()
            return _json(error.model_dump(), int(error.status or 400))
        except ValidationError as exc:
            return _error(400, " ".join(str(exc).split())[:500], "invalidValue")
        except _MethodNotAllowed as exc:
            return _error(405, str(exc))
        except PlatformError as exc:
            return _error(400, str(exc))

    return wrapped


def _scim(services: Services) -> ScimService:
    if services.scim is None:
        raise NotFoundError("SCIM is not available")
    return services.scim


async def _client(request: Request, services: Services) -> tuple[ScimService, Principal]:
    scim = _scim(services)
    return scim, await run_in_threadpool(scim.authenticate, request.headers.get("authorization"))


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise InvalidRequestError(f"the body is not JSON: {exc}") from exc


def _parameters(request: Request, model: Any) -> ResponseParameters[Any] | None:
    """The `attributes` and `excludedAttributes` query parameters, for User and Group responses."""
    attributes, excluded = request.query_params.get("attributes"), request.query_params.get("excludedAttributes")
    if model not in (User, Group) or not (attributes or excluded):
        return None
    parameters: ResponseParameters[Any] = ResponseParameters[model](attributes=attributes, excluded_attributes=excluded)
    return parameters


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return int(raw) if raw is not None else default
    except ValueError as exc:
        raise InvalidRequestError(f"{name} must be an integer") from exc


def _location(request: Request, resource: Any) -> None:
    if resource.meta is not None and resource.meta.location:
        resource.meta.location = f"{str(request.base_url).rstrip('/')}/scim/v2{resource.meta.location}"


def _resource(
    request: Request, resource: Any, status: int = 200, context: Context = Context.RESOURCE_QUERY_RESPONSE
) -> Response:
    _location(request, resource)
    body = resource.model_dump(scim_ctx=context, response_parameters=_parameters(request, type(resource)))
    headers = {"Location": resource.meta.location} if status == 201 and resource.meta else None
    return _json(body, status, headers)


# -- discovery ------------------------------------------------------------------------------------------


def _config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri="https://github.com/groundwork/groundwork/blob/main/docs/access.md",
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_PAGE),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="The tenant's SCIM token: Authorization: Bearer gwscim_...",
                primary=True,
            )
        ],
    )


def _resource_types() -> list[ResourceType]:
    return [ResourceType.from_resource(User), ResourceType.from_resource(Group)]


def _schemas() -> list[Any]:
    return [User.to_schema(), Group.to_schema()]


def _listing(
    request: Request,
    model: Any,
    items: list[Any],
    total: int | None = None,
    start: int = 1,
    parameters: ResponseParameters[Any] | None = None,
) -> Response:
    for item in items:
        _location(request, item)
    listed = ListResponse[model](
        total_results=len(items) if total is None else total,
        start_index=start,
        items_per_page=len(items),
        resources=items,
    )
    parameters = parameters or _parameters(request, model)
    return _json(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters))


def _meta(item: Any, kind: str, identifier: str) -> Any:
    item.meta = Meta(resource_type=kind, location=f"/{kind}s/{identifier}")
    return item


@router.get("/ServiceProviderConfig")
@scim_errors
async def service_provider_config(request: Request, services: ServicesDep) -> Response:
    await _client(request, services)
    config = _config()
    config.meta = None
    return _json(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@router.get("/ResourceTypes")
@scim_errors
async def resource_types(request: Request, services: ServicesDep) -> Response:
    await _client(request, services)
    return _listing(request, ResourceType, [_meta(t, "ResourceType", str(t.id)) for t in _resource_types()])


@router.get("/ResourceTypes/{type_id}")
@scim_errors
async def resource_type(type_id: str, request: Request, services: ServicesDep) -> Response:
    await _client(request, services)
    for item in _resource_types():
        if item.id == type_id:
            return _resource(request, _meta(item, "ResourceType", type_id))
    raise NotFoundError(f"ResourceType {type_id} not found")


@router.get("/Schemas")
@scim_errors
async def schemas(request: Request, services: ServicesDep) -> Response:
    await _client(request, services)
    return _listing(request, Schema, [_meta(s, "Schema", str(s.id)) for s in _schemas()])


@router.get("/Schemas/{schema_id}")
@scim_errors
async def schema(schema_id: str, request: Request, services: ServicesDep) -> Response:
    await _client(request, services)
    for item in _schemas():
        if item.id == schema_id:
            return _resource(request, _meta(item, "Schema", schema_id))
    raise NotFoundError(f"Schema {schema_id} not found")


# -- users and groups -----------------------------------------------------------------------------------

_MODELS: dict[str, Any] = {"Users": User, "Groups": Group}
_DISCOVERY = ("ServiceProviderConfig", "Schemas", "ResourceTypes")


class _MethodNotAllowed(PlatformError):
    code = "method_not_allowed"


def _check_kind(kind: str, method: str) -> None:
    if kind in _DISCOVERY:
        raise _MethodNotAllowed(f"{method} is not supported on /{kind}")
    if kind not in _MODELS:
        raise NotFoundError(f"no resource type {kind}")


@router.get("/{kind}")
@scim_errors
async def list_resources(kind: str, request: Request, services: ServicesDep) -> Response:
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    lister = scim.list_users if kind == "Users" else scim.list_groups
    page = await run_in_threadpool(
        lister, client, request.query_params.get("filter"), _int(request, "startIndex", 1), _int(request, "count", 100)
    )
    return _listing(request, _MODELS[kind], page.resources, page.total, page.start_index)


@router.post("/.search")
@scim_errors
async def search_everything(request: Request, services: ServicesDep) -> Response:
    """A query across Users and Groups (RFC 7644 §3.4.3)."""
    scim, client = await _client(request, services)
    both: Any = User | Group
    query = SearchRequest[both].model_validate(await _body(request), scim_ctx=Context.SEARCH_REQUEST)
    filter_ = str(query.filter) if query.filter is not None else None
    users = await run_in_threadpool(scim.list_users, client, filter_, 1, MAX_PAGE)
    groups = await run_in_threadpool(scim.list_groups, client, filter_, 1, MAX_PAGE)
    found = users.resources + groups.resources
    start, count = max(query.start_index or 1, 1), min(query.count or 100, MAX_PAGE)
    parameters = ResponseParameters[both](attributes=query.attributes, excluded_attributes=query.excluded_attributes)
    page = found[start - 1 : start - 1 + count]
    return _listing(request, both, page, users.total + groups.total, start, parameters)


@router.post("/{kind}/.search")
@scim_errors
async def search_resources(kind: str, request: Request, services: ServicesDep) -> Response:
    """A query in the body (RFC 7644 §3.4.3)."""
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    model = _MODELS[kind]
    query = SearchRequest[model].model_validate(await _body(request), scim_ctx=Context.SEARCH_REQUEST)  # type: ignore[valid-type]
    lister = scim.list_users if kind == "Users" else scim.list_groups
    filter_ = str(query.filter) if query.filter is not None else None
    page = await run_in_threadpool(lister, client, filter_, query.start_index or 1, query.count or 100)
    parameters = ResponseParameters[model](  # type: ignore[valid-type]
        attributes=query.attributes, excluded_attributes=query.excluded_attributes
    )
    return _listing(request, model, page.resources, page.total, page.start_index, parameters)


@router.post("/{kind}")
@scim_errors
async def create_resource(kind: str, request: Request, services: ServicesDep) -> Response:
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    resource = _MODELS[kind].model_validate(await _body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    creator = scim.create_user if kind == "Users" else scim.create_group
    created = await run_in_threadpool(creator, client, resource)
    return _resource(request, created, 201, Context.RESOURCE_CREATION_RESPONSE)


@router.get("/{kind}/{resource_id}")
@scim_errors
async def get_resource(kind: str, resource_id: str, request: Request, services: ServicesDep) -> Response:
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    getter = scim.get_user if kind == "Users" else scim.get_group
    return _resource(request, await run_in_threadpool(getter, client, resource_id))


@router.put("/{kind}/{resource_id}")
@scim_errors
async def replace_resource(kind: str, resource_id: str, request: Request, services: ServicesDep) -> Response:
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    resource = _MODELS[kind].model_validate(await _body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    changed: Any
    if kind == "Users":
        changed = await run_in_threadpool(scim.replace_user, client, resource_id, resource)
    else:
        changed = await run_in_threadpool(scim.change_group, client, resource_id, "group.replace", lambda _g: resource)
    return _resource(request, changed, 200, Context.RESOURCE_REPLACEMENT_RESPONSE)


@router.patch("/{kind}/{resource_id}")
@scim_errors
async def patch_resource(kind: str, resource_id: str, request: Request, services: ServicesDep) -> Response:
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    model = _MODELS[kind]
    patch = PatchOp[model].model_validate(await _body(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST)  # type: ignore[valid-type]
    changed: Any
    if kind == "Users":
        changed = await run_in_threadpool(scim.patch_user, client, resource_id, patch.patch)
    else:

        def apply(group: Group) -> Group:
            patch.patch(group)
            return group

        changed = await run_in_threadpool(scim.change_group, client, resource_id, "group.patch", apply)
    return _resource(request, changed, 200, Context.RESOURCE_PATCH_RESPONSE)


@router.delete("/{kind}/{resource_id}")
@scim_errors
async def delete_resource(kind: str, resource_id: str, request: Request, services: ServicesDep) -> Response:
    scim, client = await _client(request, services)
    _check_kind(kind, request.method)
    deleter = scim.delete_user if kind == "Users" else scim.delete_group
    await run_in_threadpool(deleter, client, resource_id)
    return Response(status_code=204)


@router.api_route(
    "/{endpoint:path}", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False, name="read_only"
)
@scim_errors
async def read_only(endpoint: str, request: Request, services: ServicesDep) -> Response:
    """The discovery endpoints are read-only (405); anything else is not found."""
    await _client(request, services)
    if endpoint.split("/")[0] in ("ServiceProviderConfig", "Schemas", "ResourceTypes"):
        return _error(405, f"{request.method} is not supported on /{endpoint}")
    raise NotFoundError(f"no resource at /{endpoint}")
