"""Reading questions out of Slack messages and `/ask` commands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
MAX_QUESTION_CHARS = 4000


def mentions(text: str, user_id: str) -> bool:
    return any(m.group(1) == user_id for m in _MENTION.finditer(text))


def question_text(text: str, bot_user_id: str | None) -> str:
    """The message without the bot's mention, other markup kept as Slack sent it, whitespace collapsed."""
    if bot_user_id:
        text = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())[:MAX_QUESTION_CHARS]


def is_question(text: str) -> bool:
    """What the bot answers unasked in a channel set to `reply=all`: a message with a question mark."""
    return "?" in text


@dataclass(frozen=True)
class AskCommand:
    question: str
    visibility: Literal["ephemeral", "in_channel"] | None
    """From `--private` or `--public`; None: the `slack.ask_reply` setting."""


def parse_ask(text: str) -> AskCommand:
    """`/ask [--private|--public] question`."""
    words = text.strip().split(None, 1)
    visibility: Literal["ephemeral", "in_channel"] | None = None
    if words and words[0] in ("--private", "-p"):
        visibility, text = "ephemeral", words[1] if len(words) > 1 else ""
    elif words and words[0] == "--public":
        visibility, text = "in_channel", words[1] if len(words) > 1 else ""
    return AskCommand(question_text(text, None), visibility)
