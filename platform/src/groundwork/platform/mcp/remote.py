"""`ClientKnowledge`: the MCP tools over a running server's REST API (`groundwork mcp --url`), as the API key
or token the client sends. The server applies access control; nothing is read locally."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundwork.client import AsyncGroundwork
from groundwork.client.models import Filter, SearchMode

Json = dict[str, Any]


class ClientKnowledge:
    def __init__(self, client: AsyncGroundwork) -> None:
        self._client = client

    async def list_datastores(self) -> list[Json]:
        return [d.model_dump(mode="json") for d in await self._client.list_datastores()]

    async def datastore(self, reference: str) -> Json:
        return (await self._client.get_datastore(reference)).model_dump(mode="json")

    async def search(
        self, query: str, datastores: Sequence[str], filters: Sequence[Json], top_k: int | None, mode: str
    ) -> Json:
        wire = [Filter.model_validate(f) for f in filters]
        found = await self._client.search(query, datastores, top_k=top_k, mode=_mode(mode), filters=wire)
        return {"hits": [h.model_dump(mode="json") for h in found.hits]}

    async def answer(
        self,
        question: str,
        datastores: Sequence[str],
        filters: Sequence[Json],
        top_k: int | None,
        conversation_id: str | None,
    ) -> Json:
        wire = [Filter.model_validate(f) for f in filters]
        result = await self._client.answer(
            question, datastores, filters=wire, top_k=top_k, conversation_id=conversation_id
        )
        return result.model_dump(mode="json")

    async def passage(self, datastore: str, document_id: str, chunk_id: int, context_chars: int) -> Json:
        found = await self._client.get_passage(datastore, document_id, chunk_id, context_chars=context_chars)
        return found.model_dump(mode="json")


def _mode(value: str) -> SearchMode:
    if value == "dense":
        return "dense"
    if value == "lexical":
        return "lexical"
    if value == "hybrid":
        return "hybrid"
    raise ValueError(f"unknown search mode {value!r}: dense, lexical or hybrid")
