"""The MCP server as agents use it: the SDK's own client over streamable HTTP (/mcp of the running API) and
over stdio (`groundwork mcp --url`), and the ACL rule through every MCP tool and every groundwork.client read
method: no reader ever sees a canary of a document it may not read."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from groundwork.client import Groundwork, PermissionDeniedError, UploadFile
from groundwork.client import errors as client_errors
from groundwork.platform.access.principal import Principal
from groundwork.platform.config import AccessConfig
from groundwork.platform.db.models import Chunk

from ..access.helpers import add_group, add_user, bearer
from ..access.test_canary_matrix import CANARY, QUESTION, Tally
from ..conftest import admin_key, make_settings
from ..live_server import live_server

pytestmark = pytest.mark.slow
GROUNDWORK = str(Path(sys.executable).with_name("groundwork"))
TOOLS = {"search", "answer", "get_passage", "list_datastores"}


@dataclass
class Doc:
    name: str
    canary: str
    acl: dict[str, Any]
    id: str = ""
    chunk: int = 0


@dataclass
class Reader:
    name: str
    role: str
    groups: set[str]
    token: str = ""


DOCS = [
    Doc("open.md", "zqcanary00000000a1", {"tenant": True}),
    Doc("sre.md", "zqcanary00000000b2", {"groups": ["sre"]}),
    Doc("ana.md", "zqcanary00000000c3", {"users": ["ana"]}),
    Doc("admins.md", "zqcanary00000000d4", {"users": [], "groups": [], "tenant": False}),
    Doc("ghost.md", "zqcanary00000000e5", {"groups": ["ghost"]}),
]
READERS = [Reader("ana", "reader", {"sre"}), Reader("bo", "reader", set()), Reader("ed", "editor", set())]


def readable(reader: Reader, doc: Doc) -> bool:
    acl = doc.acl
    return bool(acl.get("tenant") or reader.name in acl.get("users", ()) or reader.groups & set(acl.get("groups", ())))


@dataclass
class World:
    url: str
    admin: str
    job: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(tmp_path_factory.mktemp("mcp") / "data", access=AccessConfig(rate_limit_per_minute=0))
    with live_server(settings) as (url, app):
        admin = admin_key(settings)
        with httpx.Client(base_url=url, headers=bearer(admin)) as http:
            add_group(http, "sre")  # type: ignore[arg-type]
            for reader in READERS:
                reader.token = add_user(http, reader.name, reader.role, tuple(sorted(reader.groups)))  # type: ignore[arg-type]
        with Groundwork(url, api_key=admin) as gw:
            gw.create_datastore("kb")
            uploads = [
                UploadFile(
                    filename=d.name,
                    data=(
                        f"# Rotation {d.name}\n\nThe on-call rotation schedule and the pager escalation policy. "
                        f"Canary {d.canary} marks this page.\n"
                    ).encode(),
                    content_type="text/markdown",
                    acl=d.acl,
                )
                for d in DOCS
            ]
            (batch,) = gw.upload_documents("kb", uploads)
        assert batch.job.total == len(DOCS) and not batch.refused
        ids = {d.filename: d.document_id for d in batch.documents}
        services = app.state.services  # no API principal reads every document: the operator waits and looks
        operator = Principal.operator("default")
        deadline = time.monotonic() + 120
        while not services.documents.get_job(operator, batch.job.id).finished_at:
            assert time.monotonic() < deadline, "the batch was not indexed"
            time.sleep(0.1)
        with services.database.session() as session:
            first: dict[str, int] = {}
            for document_id, chunk_id in session.execute(select(Chunk.document_id, Chunk.id).order_by(Chunk.id)):
                first.setdefault(document_id, chunk_id)
        for doc in DOCS:
            doc.id = ids[doc.name]
            doc.chunk = first[doc.id]
        yield World(url, admin, batch.job.id)


@asynccontextmanager
async def mcp_over_http(url: str, token: str | None) -> AsyncIterator[Client]:
    headers = bearer(token) if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
    ):
        yield client


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if set(content) == {"result"} else content
    return json.loads(result.content[0].text)


async def round_trip(client: Client, datastore: str) -> dict[str, Any]:
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert tools == TOOLS
    hits = structured(await client.call_tool("search", {"query": QUESTION, "datastores": [datastore], "top_k": 5}))
    answer = structured(await client.call_tool("answer", {"question": QUESTION, "datastores": [datastore]}))
    return {"hits": hits["hits"], "answer": answer}


def test_the_sdk_client_round_trip_over_http(world: World) -> None:
    ana = READERS[0]

    async def main() -> dict[str, Any]:
        async with mcp_over_http(world.url, ana.token) as client:
            result = await round_trip(client, "kb")
            resources = (await client.list_resources()).resources
            assert [r.name for r in resources] == ["kb"]
            body = await client.read_resource(resources[0].uri)
            result["resource"] = json.loads(body.contents[0].text)  # type: ignore[union-attr]
            with pytest.raises(MCPError) as missing:
                await client.call_tool("search", {"query": "x", "datastores": ["nope"]})
            result["missing"] = missing.value
            with pytest.raises(MCPError) as bad:  # validated like the API's POST /v1/search
                await client.call_tool("search", {"query": "x", "datastores": []})
            result["bad"] = bad.value
            return result

    result = anyio.run(main)
    assert {h["document_id"] for h in result["hits"]} <= {d.id for d in DOCS if readable(ana, d)}
    answer = result["answer"]
    assert answer["citations"] and answer["claims"] and answer["refused"] is False
    assert all("supported" in claim for claim in answer["claims"])
    assert result["resource"]["documents"] == sum(readable(ana, d) for d in DOCS)
    assert result["missing"].error.data["code"] == "not_found" and result["missing"].message.startswith("not_found")
    assert result["bad"].error.data["code"] == "invalid_request" and result["bad"].error.data["status"] == 422

    async def anonymous() -> None:
        async with mcp_over_http(world.url, None) as client:
            await client.list_tools()

    with pytest.raises(BaseException) as refused:  # the SDK raises it inside its task groups
        anyio.run(anonymous)
    assert "MCPError" in repr(refused.value)
    plain = httpx.post(f"{world.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert plain.status_code == 401 and plain.json()["error"]["code"] == "unauthenticated"


def test_the_sdk_client_round_trip_over_stdio(world: World) -> None:
    bo = READERS[1]
    env = {**os.environ, "GROUNDWORK_API_KEY": bo.token, "GROUNDWORK_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"}
    params = StdioServerParameters(command=GROUNDWORK, args=["mcp", "--url", world.url], env=env)

    async def main() -> dict[str, Any]:
        async with Client(params) as client:
            result = await round_trip(client, "kb")
            with pytest.raises(MCPError) as hidden:
                secret = next(d for d in DOCS if d.name == "sre.md")
                arguments = {"datastore": "kb", "document_id": secret.id, "chunk_id": secret.chunk}
                await client.call_tool("get_passage", arguments)
            result["hidden"] = hidden.value
            return result

    result = anyio.run(main)
    assert {h["document_id"] for h in result["hits"]} == {d.id for d in DOCS if readable(bo, d)}
    assert result["answer"]["citations"]
    assert result["hidden"].error.data["code"] == "not_found"


async def mcp_views(url: str, reader: Reader) -> list[tuple[str, str]]:
    """Everything every MCP tool and resource shows `reader`, as (where, text)."""
    seen: list[tuple[str, str]] = []
    every_canary = " ".join(d.canary for d in DOCS)
    async with mcp_over_http(url, reader.token) as client:
        seen.append(("list_datastores", repr((await client.call_tool("list_datastores", {})).content)))
        for mode, query in (("hybrid", QUESTION), ("dense", QUESTION), ("lexical", every_canary)):
            found = await client.call_tool("search", {"query": query, "datastores": ["kb"], "mode": mode, "top_k": 50})
            seen.append((f"search {mode}", repr(found.content)))
            ids = {h["document_id"] for h in structured(found)["hits"]}
            assert ids == {d.id for d in DOCS if readable(reader, d)}, (reader.name, mode)
        answer = await client.call_tool("answer", {"question": QUESTION, "datastores": ["kb"], "top_k": 20})
        seen.append(("answer", repr(answer.content)))
        for doc in DOCS:
            arguments = {"datastore": "kb", "document_id": doc.id, "chunk_id": doc.chunk}
            try:
                seen.append(
                    (f"get_passage {doc.name}", repr((await client.call_tool("get_passage", arguments)).content))
                )
                assert readable(reader, doc), (reader.name, doc.name)
            except MCPError as exc:
                assert exc.error.data["code"] == "not_found" and not readable(reader, doc), (reader.name, doc.name)
                seen.append((f"get_passage {doc.name} error", repr(exc.error)))
        for resource in (await client.list_resources()).resources:
            seen.append((f"resource {resource.uri}", repr(await client.read_resource(resource.uri))))
    return seen


def client_views(url: str, reader: Reader, job: str) -> list[tuple[str, str]]:
    """Everything every groundwork.client read method shows `reader`, as (where, text)."""
    seen: list[tuple[str, str]] = []
    every_canary = " ".join(d.canary for d in DOCS)

    def look(where: str, call: Any) -> None:
        try:
            value = call()
        except client_errors.NotFoundError as exc:
            seen.append((f"{where} (404)", f"{exc.code} {exc.message}"))
            return
        seen.append((where, json.dumps(_jsonable(value), default=str)))

    with Groundwork(url, api_key=reader.token) as gw:
        look("me", gw.me)
        look("list_datastores", gw.list_datastores)
        look("get_datastore", lambda: gw.get_datastore("kb"))
        look("list_documents", lambda: gw.list_documents("kb"))
        listed = {d.id for d in gw.list_documents("kb").items}
        assert listed == {d.id for d in DOCS if readable(reader, d)}, reader.name
        for doc in DOCS:
            look(f"get_document {doc.name}", lambda doc=doc: gw.get_document("kb", doc.id))
            look(f"get_passage {doc.name}", lambda doc=doc: gw.get_passage("kb", doc.id, doc.chunk))
        for mode, query in (("hybrid", QUESTION), ("dense", QUESTION), ("lexical", every_canary)):
            look(f"search {mode}", lambda mode=mode, query=query: gw.search(query, ["kb"], mode=mode, top_k=50))
        answer = gw.answer(QUESTION, ["kb"], top_k=20)
        seen.append(("answer", answer.model_dump_json()))
        events = list(gw.stream_answer("And the escalation?", ["kb"], conversation_id=answer.conversation_id))
        assert events[-1].event == "done"
        seen.append(("stream_answer", json.dumps([e.data for e in events], default=str)))
        look("list_conversations", gw.list_conversations)
        look("get_conversation", lambda: gw.get_conversation(answer.conversation_id))
        look("get_job", lambda: gw.get_job(job))
        look("job_documents", lambda: gw.job_documents(job))
        look("job_failures", lambda: gw.job_failures(job))
        with pytest.raises(PermissionDeniedError) as denied:
            gw.admin.audit()
        assert denied.value.code == "forbidden" and denied.value.request_id
    return seen


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def test_no_reader_sees_a_canary_through_mcp_or_the_client(world: World) -> None:
    tally = Tally()
    for reader in READERS:
        hidden = {d.canary for d in DOCS if not readable(reader, d)}
        views = anyio.run(mcp_views, world.url, reader) + client_views(world.url, reader, world.job)
        for where, text in views:
            tally.check(f"{reader.name} {where}", text, hidden)
        shown = {c for _where, text in views for c in CANARY.findall(text)}
        assert shown == {d.canary for d in DOCS if readable(reader, d)}, reader.name  # the readable ones do show
    assert tally.leaks == [], tally.leaks
    assert tally.checks > 3 * 30
