"""Token counting with the served model's own tokenizer (`tokenizer.json` in the prepared model directory), so
prompt budgets are computed in the units the server enforces (`--max-model-len`).

`count_messages` renders the model's chat template (`chat_template.jinja` or `tokenizer_config.json`) with Jinja2
the way transformers and vLLM do; a template it cannot render falls back to a ChatML-sized estimate of
`MESSAGE_OVERHEAD` tokens per message plus `REPLY_PRIMER` for the assistant prompt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import jinja2
import jinja2.sandbox
from tokenizers import Tokenizer

from groundwork.serving.types import ChatMessage

logger = logging.getLogger(__name__)

MESSAGE_OVERHEAD = 4
"""Estimated template tokens per message besides its role (ChatML: `<|im_start|>`, newline, `<|im_end|>`,
newline)."""
REPLY_PRIMER = 3
"""Estimated tokens of the generation prompt (`<|im_start|>assistant\\n`)."""


class TokenCounter:
    """Counts tokens as one model sees them. Build it with `from_model_dir`; thread-safe for counting. Turns off
    the given tokenizer's padding and truncation."""

    def __init__(self, tokenizer: Tokenizer, chat_template: str | None = None, *, bos_token: str = "") -> None:
        tokenizer.no_padding()  # a tokenizer.json may pad or truncate every encoding (embedding models do)
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self._template = _compile(chat_template) if chat_template else None
        self._bos_token = bos_token

    @classmethod
    def from_model_dir(cls, directory: Path) -> TokenCounter:
        """Load `tokenizer.json` and the chat template from a Hugging Face model directory."""
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        config = _read_json(directory / "tokenizer_config.json")
        template_file = directory / "chat_template.jinja"
        template = template_file.read_text(encoding="utf-8") if template_file.is_file() else None
        configured = config.get("chat_template")
        if template is None and isinstance(configured, str):
            template = configured
        bos = config.get("bos_token")
        return cls(tokenizer, template, bos_token=bos if isinstance(bos, str) else "")

    @property
    def has_chat_template(self) -> bool:
        return self._template is not None

    def count(self, text: str) -> int:
        """Tokens in `text` without special tokens added."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def render(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> str | None:
        """The prompt the server builds from `messages`, or None without a usable chat template."""
        if self._template is None:
            return None
        try:
            return self._template.render(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                add_generation_prompt=add_generation_prompt,
                bos_token=self._bos_token,
            )
        except jinja2.TemplateError as exc:
            logger.warning("chat template failed (%s); estimating message overhead instead", exc)
            return None

    def count_messages(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True) -> int:
        """Prompt tokens of a chat request: exact when the chat template renders, an estimate otherwise."""
        prompt = self.render(messages, add_generation_prompt=add_generation_prompt)
        if prompt is not None:
            return self.count(prompt)
        overhead = MESSAGE_OVERHEAD * len(messages) + (REPLY_PRIMER if add_generation_prompt else 0)
        return overhead + sum(self.count(m.content) + self.count(m.role) for m in messages)


def _compile(source: str) -> jinja2.Template:
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)


def _read_json(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}
