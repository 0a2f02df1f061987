"""groundwork.client against the server's OpenAPI document (so it cannot drift), and its retry and error rules.

The OpenAPI check records the request every client method sends (a transport that answers nothing) and checks
it against /openapi.json: the route and method exist, every query parameter is declared, and the JSON body
validates against the operation's schema; then every response model's fields against the response schema. The
retry rules run against a transport that answers like the API does (429 with Retry-After, 503, broken
connections), and the live behaviour is in tests/platform/test_mcp.py."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from groundwork.client import (
    AuthenticationError,
    ConnectionError,
    Groundwork,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    UnavailableError,
    UploadFile,
)
from groundwork.client.events import ClaimEvent, DoneEvent, RetrievalEvent, SSEParser, UnknownEvent
from groundwork.client.models import Acl, Request
from groundwork.client.routes import ROUTES, Route
from groundwork.platform.api.app import create_app

from ..conftest import make_settings


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    spec: dict[str, Any] = create_app(make_settings(tmp_path_factory.mktemp("openapi") / "data")).openapi()
    return spec


class Refuse(httpx.BaseTransport):
    """Records each request and answers none (the client then raises ConnectionError: no retries)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        raise httpx.ConnectError("recorded", request=request)


def _every_call(gw: Groundwork) -> Iterator[tuple[str, Callable[[], object]]]:
    up = UploadFile(filename="a.md", data=b"# A\n", acl={"groups": ["sre"]}, metadata={"k": 1}, title="A")
    f = [{"key": "team", "op": "in", "value": ["a"]}]
    yield "me", gw.me
    yield "create_datastore", lambda: gw.create_datastore("kb", "docs")
    yield "list_datastores", gw.list_datastores
    yield "get_datastore", lambda: gw.get_datastore("kb")
    yield "delete_datastore", lambda: gw.delete_datastore("kb")
    yield "sync_datastore", lambda: gw.sync_datastore("kb", "gs://b/p", include=["*.md"], exclude=["x"])
    yield "upload_document", lambda: gw.upload_document("kb", up)
    yield "upload_batch", lambda: gw.upload_batch("kb", [up, up])
    yield "list_documents", lambda: gw.list_documents("kb", status="indexed", limit=5, offset=1)
    yield "get_document", lambda: gw.get_document("kb", "d1")
    yield "set_acl", lambda: gw.set_acl("kb", "d1", Acl(groups=["sre"]))
    yield "get_passage", lambda: gw.get_passage("kb", "d1", 3, context_chars=100)
    yield "retry_document", lambda: gw.retry_document("kb", "d1")
    yield "delete_document", lambda: gw.delete_document("kb", "d1")
    yield "get_job", lambda: gw.get_job("j1")
    yield "job_documents", lambda: gw.job_documents("j1")
    yield "job_failures", lambda: gw.job_failures("j1")
    yield "retry_job", lambda: gw.retry_job("j1")
    yield "search", lambda: gw.search("q", ["kb"], top_k=3, mode="lexical", filters=f)
    yield "answer", lambda: gw.answer("q?", ["kb"], filters=f, conversation_id="c1", top_k=4)
    yield "answer", lambda: list(gw.stream_answer("q?", ["kb"], top_k=4))
    yield "list_conversations", lambda: gw.list_conversations(limit=5, offset=0)
    yield "get_conversation", lambda: gw.get_conversation("c1")
    yield "rename_conversation", lambda: gw.rename_conversation("c1", "t")
    yield "delete_conversation", lambda: gw.delete_conversation("c1")
    yield "add_feedback", lambda: gw.add_feedback("c1", 7, 1, "good")
    admin = gw.admin
    yield "create_tenant", lambda: admin.create_tenant("acme", name="Acme")
    yield "list_tenants", admin.list_tenants
    yield "create_user", lambda: admin.create_user("ana", role="editor", groups=["sre"], email="a@x")
    yield "list_users", admin.list_users
    yield "get_user", lambda: admin.get_user("ana")
    yield "update_user", lambda: admin.update_user("ana", role="reader", disabled=True)
    yield "delete_user", lambda: admin.delete_user("ana")
    yield "create_group", lambda: admin.create_group("sre", description="d", members=["ana"])
    yield "list_groups", admin.list_groups
    yield "delete_group", lambda: admin.delete_group("sre")
    yield "add_members", lambda: admin.add_members("sre", ["ana"])
    yield "remove_member", lambda: admin.remove_member("sre", "ana")
    yield "create_api_key", lambda: admin.create_api_key("ana", role="reader", name="n", expires_in_days=3)
    yield "list_api_keys", admin.list_api_keys
    yield "revoke_api_key", lambda: admin.revoke_api_key("k1")
    yield "audit", lambda: admin.audit(actor="ana", action="search", limit=10)


def _operation(spec: dict[str, Any], route: Route, path: str) -> dict[str, Any]:
    assert route.path in spec["paths"], f"{route.path} is not in the OpenAPI document"
    template = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path))
    assert re.fullmatch(template, path), (route.path, path)
    operations = spec["paths"][route.path]
    assert route.method.lower() in operations, f"{route.method} {route.path} is not in the OpenAPI document"
    operation: dict[str, Any] = operations[route.method.lower()]
    return operation


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": spec["components"]})


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_client_call_is_a_route_of_the_openapi_document(openapi: dict[str, Any]) -> None:
    transport = Refuse()
    gw = Groundwork("http://groundwork.test", api_key="gw_x_y", transport=transport, retry=RetryPolicy(max_retries=0))
    exercised: set[str] = set()
    for name, call in _every_call(gw):
        with pytest.raises(ConnectionError):
            call()
        request, route = transport.requests[-1], ROUTES[name]
        exercised.add(name)
        operation = _operation(openapi, route, request.url.path)
        declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
        assert set(request.url.params) <= declared, (name, set(request.url.params) - declared)
        content = operation.get("requestBody", {}).get("content", {})
        if route.request is not None:
            body = json.loads(request.content)
            errors = list(_validator(openapi, content["application/json"]["schema"]).iter_errors(body))
            assert not errors, (name, [e.message for e in errors])
        elif request.content:
            form = _resolve(openapi, content["multipart/form-data"]["schema"])
            sent = set(re.findall(rb'; name="([^"]+)"', request.content))
            assert {s.decode() for s in sent} <= set(form["properties"]), (name, sent)
    assert exercised == set(ROUTES), set(ROUTES) - exercised  # a route added to the table gets a call here


def _fields(model: type[BaseModel]) -> tuple[set[str], set[str]]:
    return set(model.model_fields), {k for k, f in model.model_fields.items() if f.is_required()}


def test_the_client_models_match_the_openapi_schemas(openapi: dict[str, Any]) -> None:
    for name, route in ROUTES.items():
        operation = openapi["paths"][route.path][route.method.lower()]
        if route.request is not None:
            schema = _resolve(openapi, operation["requestBody"]["content"]["application/json"]["schema"])
            fields, required = _fields(route.request)
            assert fields == set(schema["properties"]), (name, fields ^ set(schema["properties"]))
            assert set(schema.get("required", ())) <= required | set(), name
            assert issubclass(route.request, Request)
        success = next(code for code in operation["responses"] if code.startswith("2"))
        if route.response is None:
            assert success == "204" or not operation["responses"][success].get("content"), name
            continue
        schema = operation["responses"][success]["content"]["application/json"]["schema"]
        schema = _resolve(openapi, schema["items"] if route.many else schema)
        fields, _required = _fields(route.response)
        served = set(schema["properties"])
        assert fields <= served, (name, "the client reads fields the server does not send", fields - served)
        assert set(schema.get("required", ())) & served <= fields, (name, set(schema.get("required", ())) - fields)


API_ERROR = {"error": {"code": "rate_limited", "message": "slow down", "request_id": "r-1"}}


def _scripted(*answers: httpx.Response | Exception) -> tuple[list[httpx.Request], httpx.MockTransport]:
    """A transport that answers like the API, one scripted answer per request."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, httpx.MockTransport(handle)


JOB = {
    "id": "j1",
    "datastore_id": "d",
    "kind": "batch",
    "status": "running",
    "total": 2,
    "done": 1,
    "failed": 0,
    "progress": 0.5,
    "created_at": "2026-01-01T00:00:00Z",
    "finished_at": None,
    "added_by_a_newer_server": 1,
}


def test_429_and_503_are_waited_out_with_retry_after_capped_and_jittered() -> None:
    waits: list[float] = []
    seen, transport = _scripted(
        httpx.Response(429, json=API_ERROR, headers={"Retry-After": "2"}),
        httpx.Response(503, json={"error": {"code": "queue_full", "message": "m", "request_id": "r"}}),
        httpx.Response(429, json=API_ERROR, headers={"Retry-After": "3600"}),
        httpx.Response(200, json={"job": JOB, "documents": [], "refused": []}),
    )
    policy = RetryPolicy(max_retries=5, backoff=0.5, max_delay=30, jitter=0.25)
    with Groundwork("http://gw.test", api_key="k", transport=transport, retry=policy, sleep=waits.append) as gw:
        accepted = gw.upload_batch("kb", [UploadFile(filename="a.md", data=b"x")])  # a POST: retried on 429/503
    assert accepted.job.model_extra == {"added_by_a_newer_server": 1}
    assert len(seen) == 4 and all(r.headers["Authorization"] == "Bearer k" for r in seen)
    assert 2 <= waits[0] <= 2.5 and 1 <= waits[1] <= 1.25 and 30 <= waits[2] <= 37.5  # Retry-After; backoff; cap


def test_429_after_the_retries_is_rate_limited_with_the_request_id() -> None:
    seen, transport = _scripted(*[httpx.Response(429, json=API_ERROR, headers={"Retry-After": "1"})] * 3)
    with (
        Groundwork(
            "http://gw.test", transport=transport, retry=RetryPolicy(max_retries=2), sleep=lambda _s: None
        ) as gw,
        pytest.raises(RateLimitedError) as refused,
    ):
        gw.get_job("j1")
    assert len(seen) == 3
    error = refused.value
    assert (error.code, error.status, error.request_id, error.retry_after) == ("rate_limited", 429, "r-1", 1.0)


def test_only_idempotent_calls_are_resent_after_a_broken_connection() -> None:
    seen, transport = _scripted(httpx.ReadError("reset"), httpx.Response(200, json=JOB))
    with Groundwork("http://gw.test", transport=transport, sleep=lambda _s: None) as gw:
        assert gw.get_job("j1").done == 1
    seen, transport = _scripted(httpx.ReadError("reset"), httpx.Response(200, json=JOB))
    with (
        Groundwork("http://gw.test", transport=transport, sleep=lambda _s: None) as gw,
        pytest.raises(ConnectionError),
    ):
        gw.retry_job("j1")  # a POST that may have happened: not resent
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "unauthenticated", AuthenticationError),
        (404, "not_found", NotFoundError),
        (413, "too_many_files", InvalidRequestError),
        (503, "not_ready", UnavailableError),
    ],
)
def test_errors_carry_the_api_code_and_request_id(status: int, code: str, kind: type[Exception]) -> None:
    body = {"error": {"code": code, "message": "m", "request_id": "r-9"}}
    _seen, transport = _scripted(*[httpx.Response(status, json=body)] * 6)
    with (
        Groundwork("http://gw.test", transport=transport, sleep=lambda _s: None) as gw,
        pytest.raises(kind) as raised,
    ):
        gw.get_datastore("kb")
    assert (raised.value.code, raised.value.request_id, raised.value.status) == (code, "r-9", status)  # type: ignore[attr-defined]


def test_a_too_large_batch_is_split_and_sent_again() -> None:
    too_many = {"error": {"code": "too_many_files", "message": "split", "request_id": "r"}}
    batch = {"job": JOB, "documents": [], "refused": []}
    seen, transport = _scripted(
        httpx.Response(413, json=too_many), httpx.Response(200, json=batch), httpx.Response(200, json=batch)
    )
    progress: list[tuple[int, int]] = []
    items = [UploadFile(filename=f"{i}.md", data=b"x") for i in range(4)]
    with Groundwork("http://gw.test", transport=transport) as gw:
        accepted = gw.upload_documents("kb", items, progress=lambda sent, total: progress.append((sent, total)))
    assert len(accepted) == 2 and len(seen) == 3 and progress == [(2, 4), (4, 4)]


def test_the_answer_stream_is_typed_and_tolerates_new_events_and_fields() -> None:
    parser = SSEParser()
    lines = [
        "event: retrieval",
        'data: {"standalone_query": "q", "hits": [{"chunk_id": 1, "document_id": "d"}]}',
        "",
        ": a comment",
        "event: claim",
        'data: {"text": "A [1].", "citations": [1], "verdict": "supported", "added_by_a_newer_server": 2}',
        "",
        "event: thinking",
        'data: {"new": true}',
        "",
        "event: done",
        'data: {"answer": "A [1].", "refused": false, "conversation_id": "c"}',
    ]
    events = [e for line in lines if (e := parser.feed(line)) is not None]
    events.append(parser.close())  # type: ignore[arg-type]
    retrieval, claim, unknown, done = events
    assert isinstance(retrieval, RetrievalEvent) and retrieval.hits[0].document_id == "d"
    assert isinstance(claim, ClaimEvent) and claim.text == "A [1]." and claim.citations == [1]
    assert claim.model_extra == {"added_by_a_newer_server": 2}
    assert isinstance(unknown, UnknownEvent) and unknown.data == {"new": True}
    assert isinstance(done, DoneEvent) and done.conversation_id == "c" and done.refused is False


def test_the_client_imports_nothing_of_the_platform() -> None:
    root = Path(__file__).resolve().parents[2] / "client" / "src" / "groundwork" / "client"
    for module in root.glob("*.py"):
        imports = re.findall(r"^(?:from|import) (\S+)", module.read_text(), re.MULTILINE)
        allowed = ("groundwork.client", "httpx", "pydantic", "__future__")
        stdlib = (
            "collections",
            "contextlib",
            "dataclasses",
            "datetime",
            "email",
            "json",
            "os",
            "random",
            "time",
            "typing",
            "urllib",
            "asyncio",
        )
        assert all(i.startswith(allowed + stdlib) for i in imports), (module.name, imports)


def test_the_async_client_has_every_method_of_the_sync_one() -> None:
    import inspect

    from groundwork.client import AsyncGroundwork
    from groundwork.client.admin import Admin, AsyncAdmin

    for sync_type, async_type in ((Groundwork, AsyncGroundwork), (Admin, AsyncAdmin)):
        names = {n for n in vars(sync_type) if not n.startswith("_") and callable(getattr(sync_type, n))} - {"close"}
        for name in names:
            method, twin = getattr(sync_type, name), getattr(async_type, name, None)
            assert twin is not None, (async_type.__name__, name)
            assert inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin), name
            assert list(inspect.signature(method).parameters) == list(inspect.signature(twin).parameters), name
