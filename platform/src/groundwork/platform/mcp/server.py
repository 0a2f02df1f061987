"""The MCP server's tools and resources. Every call first resolves who is asking (`KnowledgeFor`: from the
HTTP request's `Authorization`/`X-API-Key` headers, or the identity stdio was started with) and then reads only
what that principal may read."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ListResourcesResult, PaginatedRequestParams, Resource
from pydantic import BaseModel, Field

from groundwork.platform.mcp.errors import as_mcp_errors
from groundwork.platform.mcp.knowledge import Json, Knowledge

KnowledgeFor = Callable[[Mapping[str, str] | None], Awaitable[Knowledge]]
"""The knowledge of the caller named by a request's headers (None over stdio); raises when unauthenticated."""

DATASTORE_URI = "groundwork://datastores/{datastore}"
INSTRUCTIONS = (
    "Groundwork answers from an organisation's documents. `list_datastores` names the collections; `search` "
    "returns ranked passages; `answer` returns a verified answer whose every claim is cited to a passage and "
    "checked (claims[].supported); `get_passage` reads a cited passage with the text around it. Everything is "
    "limited to the documents the caller may read."
)


class FilterArg(BaseModel):
    """A metadata filter, as the REST API takes it."""

    key: str = Field(description="A metadata key, or document_id, source_uri, title, mime_type")
    op: Literal["eq", "ne", "in", "gt", "gte", "lt", "lte"] = "eq"
    value: Any = None


def _filters(filters: list[FilterArg] | None) -> list[Json]:
    return [f.model_dump(mode="json") for f in filters or ()]


ANSWER_FIELDS = ("answer", "citations", "claims", "refused", "mode", "notice", "conversation_id", "message_id")


class GroundworkMCP(MCPServer[Any]):
    """`MCPServer` whose resource list is the caller's datastores (the SDK's static resources are the same for
    every caller)."""

    def __init__(self, knowledge_for: KnowledgeFor) -> None:
        # The SDK's constructor calls logging.basicConfig; only entrypoints configure logging, so it must find
        # the root logger already handled and do nothing.
        root, guard = logging.getLogger(), logging.NullHandler()
        root.addHandler(guard)
        try:
            super().__init__("groundwork", instructions=INSTRUCTIONS, version="0.1.0")
        finally:
            root.removeHandler(guard)
        self.knowledge_for = knowledge_for

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        headers: Mapping[str, str] | None = getattr(ctx.request, "headers", None)
        async with as_mcp_errors():
            datastores = await (await self.knowledge_for(headers)).list_datastores()
        return ListResourcesResult(
            resources=[
                Resource(
                    uri=DATASTORE_URI.format(datastore=d["name"]),
                    name=d["name"],
                    description=d.get("description") or f"{d['documents']} documents",
                    mime_type="application/json",
                )
                for d in datastores
            ]
        )


def build_server(knowledge_for: KnowledgeFor) -> GroundworkMCP:
    server = GroundworkMCP(knowledge_for)

    @server.tool(description="The datastores (document collections) the caller may search, with document counts.")
    async def list_datastores(ctx: Context) -> list[Json]:
        async with as_mcp_errors():
            return await (await knowledge_for(ctx.headers)).list_datastores()

    @server.tool(description="Ranked passages for a query from the named datastores (hybrid search by default).")
    async def search(
        query: str,
        datastores: list[str],
        ctx: Context,
        filters: list[FilterArg] | None = None,
        top_k: int = Field(default=8, ge=1, le=100),
        mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
    ) -> Json:
        async with as_mcp_errors():
            knowledge = await knowledge_for(ctx.headers)
            return await knowledge.search(query, datastores, _filters(filters), top_k, mode)

    @server.tool(
        description="A verified answer from the documents: inline [n] markers refer to `citations`; `claims` "
        "lists every claim with its verdict (`supported`); `refused` when the documents do not answer."
    )
    async def answer(
        question: str,
        datastores: list[str],
        ctx: Context,
        filters: list[FilterArg] | None = None,
        top_k: int | None = Field(default=None, ge=1, le=50),
        conversation_id: str | None = None,
    ) -> Json:
        async with as_mcp_errors():
            knowledge = await knowledge_for(ctx.headers)
            result = await knowledge.answer(question, datastores, _filters(filters), top_k, conversation_id)
        return {key: result.get(key) for key in ANSWER_FIELDS}

    @server.tool(
        description="A passage (a search hit's or citation's chunk_id) with the text around it; `text[highlight_"
        "start:highlight_end]` is the passage itself."
    )
    async def get_passage(
        datastore: str,
        document_id: str,
        chunk_id: int,
        ctx: Context,
        context_chars: int = Field(default=600, ge=0, le=20_000),
    ) -> Json:
        async with as_mcp_errors():
            knowledge = await knowledge_for(ctx.headers)
            return await knowledge.passage(datastore, document_id, chunk_id, context_chars)

    _add_resources(server, knowledge_for)
    return server


def _add_resources(server: GroundworkMCP, knowledge_for: KnowledgeFor) -> None:
    @server.resource(DATASTORE_URI, name="datastore", mime_type="application/json")
    async def datastore(datastore: str, ctx: Context) -> str:
        async with as_mcp_errors():
            found = await (await knowledge_for(ctx.headers)).datastore(datastore)
        return json.dumps(found)
