"""Requests as values: each function here builds one `Call` (route, path, body, how to read the answer); the
sync and async clients only send them. Keeping the building in one place keeps the two clients identical."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from groundwork.client import errors
from groundwork.client import models as m
from groundwork.client.routes import ROUTES, Route

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    route: Route
    path: str
    read: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    files: Sequence[tuple[str, tuple[str, bytes, str]]] | None = None
    data: Mapping[str, str] | None = None
    timeout: float | object | None = field(default=httpx.USE_CLIENT_DEFAULT)


def _path(name: str, **values: str | int) -> str:
    template = ROUTES[name].path
    return template.format(**{k: quote(str(v), safe="") for k, v in values.items()})


def _build(
    name: str,
    read: Callable[[httpx.Response], T],
    *,
    path: Mapping[str, str | int] | None,
    body: BaseModel | None,
    params: Mapping[str, Any] | None,
    files: Sequence[tuple[str, tuple[str, bytes, str]]] | None,
    data: Mapping[str, str] | None,
    timeout: float | object | None,
) -> Call[T]:
    route = ROUTES[name]
    query = {k: v for k, v in (params or {}).items() if v is not None} or None
    payload = None if body is None else body.model_dump(mode="json")
    return Call(route, _path(name, **(path or {})), read, query, payload, files, data, timeout)


def call(
    name: str,
    result: type[T],
    *,
    path: Mapping[str, str | int] | None = None,
    body: BaseModel | None = None,
    params: Mapping[str, Any] | None = None,
    files: Sequence[tuple[str, tuple[str, bytes, str]]] | None = None,
    data: Mapping[str, str] | None = None,
    timeout: float | object | None = httpx.USE_CLIENT_DEFAULT,
) -> Call[T]:
    """The call of route `name`, whose 2xx body is one `result` (the route table's model, or a subclass)."""
    route = ROUTES[name]
    if route.response is None or route.many or not issubclass(result, route.response):
        raise TypeError(f"route {name} does not answer with one {result.__name__}")
    adapter = TypeAdapter(result)
    return _build(
        name,
        lambda r: adapter.validate_json(r.content),
        path=path,
        body=body,
        params=params,
        files=files,
        data=data,
        timeout=timeout,
    )


def call_many(
    name: str, item: type[T], *, path: Mapping[str, str | int] | None = None, params: Mapping[str, Any] | None = None
) -> Call[list[T]]:
    """The call of route `name`, whose 2xx body is a JSON list of `item`."""
    route = ROUTES[name]
    if route.response is None or not route.many or not issubclass(item, route.response):
        raise TypeError(f"route {name} does not answer with a list of {item.__name__}")
    adapter = TypeAdapter(list[item])  # type: ignore[valid-type]
    read: Callable[[httpx.Response], list[T]] = lambda r: adapter.validate_json(r.content)  # noqa: E731
    return _build(
        name, read, path=path, body=None, params=params, files=None, data=None, timeout=httpx.USE_CLIENT_DEFAULT
    )


def call_empty(name: str, *, path: Mapping[str, str | int] | None = None, body: BaseModel | None = None) -> Call[None]:
    """The call of route `name`, which answers without a body (204)."""
    if ROUTES[name].response is not None:
        raise TypeError(f"route {name} answers with a body")
    return _build(
        name,
        lambda _r: None,
        path=path,
        body=body,
        params=None,
        files=None,
        data=None,
        timeout=httpx.USE_CLIENT_DEFAULT,
    )


def filters(items: Sequence[m.Filter | Mapping[str, Any]] | None) -> list[m.Filter]:
    return [item if isinstance(item, m.Filter) else m.Filter.model_validate(item) for item in items or ()]


def upload_form(item: m.UploadFile) -> tuple[list[tuple[str, tuple[str, bytes, str]]], dict[str, str]]:
    form: dict[str, str] = {}
    if item.source_uri:
        form["source_uri"] = item.source_uri
    if item.title:
        form["title"] = item.title
    if item.metadata:
        form["metadata"] = json.dumps(item.metadata)
    if item.acl is not None:
        form["acl"] = json.dumps(item.acl)
    return [("file", (item.filename, item.data, item.content_type))], form


def batch_form(items: Sequence[m.UploadFile]) -> tuple[list[tuple[str, tuple[str, bytes, str]]], dict[str, str]]:
    files = [("files", (item.filename, item.data, item.content_type)) for item in items]
    manifest = [
        {
            k: v
            for k, v in (
                ("source_uri", item.source_uri),
                ("title", item.title),
                ("metadata", item.metadata),
                ("acl", item.acl),
            )
            if v is not None
        }
        or None
        for item in items
    ]
    return files, {"manifest": json.dumps(manifest)}


def batches(items: Sequence[m.UploadFile], *, max_files: int, max_bytes: int) -> list[list[m.UploadFile]]:
    """Split uploads into requests of at most `max_files` files and about `max_bytes` of file data each (a file
    larger than `max_bytes` goes alone; the server refuses it if it is over its own limit)."""
    groups: list[list[m.UploadFile]] = []
    current: list[m.UploadFile] = []
    size = 0
    for item in items:
        if current and (len(current) >= max_files or size + len(item.data) > max_bytes):
            groups.append(current)
            current, size = [], 0
        current.append(item)
        size += len(item.data)
    if current:
        groups.append(current)
    return groups


def splittable(exc: errors.InvalidRequestError, group: Sequence[m.UploadFile]) -> bool:
    """A bulk request refused as too large (too many files or bytes) that smaller requests may get through."""
    return exc.status == 413 and exc.code in ("too_many_files", "request_too_large") and len(group) > 1


def halves(group: list[m.UploadFile]) -> list[list[m.UploadFile]]:
    middle = len(group) // 2
    return [group[:middle], group[middle:]]


def raw(method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Call[Any]:
    """A call of any route (one the client has no method for): its JSON body, or None without one."""
    route = Route(method.upper(), path, None)
    query = {k: v for k, v in (params or {}).items() if v is not None} or None
    return Call(route, path, lambda r: r.json() if r.content else None, query, json)
