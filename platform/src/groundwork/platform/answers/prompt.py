"""The prompt: numbered sources and instructions to cite them."""

from __future__ import annotations

from collections.abc import Sequence

from groundwork.platform.answers.context import Passage, source_header
from groundwork.serving.types import ChatMessage

INSTRUCTIONS = (
    "Answer the question using only the numbered sources. Write short factual sentences and end each "
    "sentence with the number of the source that supports it, like [1]. If the sources do not contain "
    "the answer, reply exactly: I don't know."
)
OVERHEAD_TOKENS = 96
"""A bound on the tokens of `INSTRUCTIONS`, the chat template and the labels around sources and question."""


def build_messages(question: str, passages: Sequence[Passage]) -> tuple[ChatMessage, ...]:
    sources = "\n\n".join(source_header(p.number, p.hit) + p.text for p in passages)
    return (
        ChatMessage(role="system", content=INSTRUCTIONS),
        ChatMessage(role="user", content=f"Sources:\n{sources}\n\nQuestion: {question}"),
    )
