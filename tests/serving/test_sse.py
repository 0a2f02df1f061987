"""SSE decoding and chunk parsing on bytes captured from a real vLLM server, split at every kind of boundary."""

from __future__ import annotations

import random

import pytest

from groundwork.serving.errors import GeneratorResponseError
from groundwork.serving.openai_client import parse_chunk
from groundwork.serving.sse import SSEDecoder, SSEEvent
from tests.serving.captured import VLLM_CHAT_STREAM, VLLM_CHAT_TEXT


def decode(chunks: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def split_randomly(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, 40)))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def test_captured_vllm_stream_decodes_to_the_completion_text() -> None:
    events = decode([VLLM_CHAT_STREAM])
    assert events[-1].data == "[DONE]"
    deltas = [parse_chunk(e.data) for e in events[:-1]]
    text = "".join(d.text for d in deltas if d is not None)
    assert text == VLLM_CHAT_TEXT
    finals = [d for d in deltas if d is not None and d.finish_reason]
    assert [d.finish_reason for d in finals] == ["length"]
    usage = [d.usage for d in deltas if d is not None and d.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens == 16


@pytest.mark.parametrize("seed", range(20))
def test_any_chunking_gives_the_same_events(seed: int) -> None:
    assert decode(split_randomly(VLLM_CHAT_STREAM, seed)) == decode([VLLM_CHAT_STREAM])


def test_byte_at_a_time_including_split_utf8() -> None:
    data = "data: caf\u00e9 \u2014 \U0001f600\n\n".encode()
    assert decode([data[i : i + 1] for i in range(len(data))]) == [SSEEvent(data="caf\u00e9 \u2014 \U0001f600")]


def test_line_endings_comments_and_multiline_data() -> None:
    data = b": keep-alive\r\nevent: update\r\ndata: a\r\ndata:b\r\nid: 7\r\n\r\ndata: c\rdata: d\r\rdata\n\n"
    expected = [SSEEvent(data="a\nb", event="update", id="7"), SSEEvent(data="c\nd", id="7"), SSEEvent(data="", id="7")]
    assert decode([data]) == expected
    split_crlf = [data[: data.index(b"\r\n") + 1], data[data.index(b"\r\n") + 1 :]]
    assert decode(split_crlf) == expected, "a CRLF split across chunks is one line ending"


def test_unterminated_last_event_is_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: partial") == []
    assert decoder.flush() == []


def test_role_only_chunks_carry_nothing_and_errors_raise() -> None:
    role_only = (
        '{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}'
    )
    assert parse_chunk(role_only) is None
    with pytest.raises(GeneratorResponseError, match="mid-stream"):
        parse_chunk('{"error": {"message": "engine dead", "code": 500}}')
    with pytest.raises(GeneratorResponseError, match="malformed"):
        parse_chunk("{not json")
