"""Characters a person reading a document cannot see but a language model reads: Unicode tag characters
(U+E0000-E007F, which can spell out whole hidden instructions), zero-width characters, bidirectional controls
and other format characters. Ingestion removes them from extracted text, and the answer flow removes them from
what the model writes, so hidden text can neither instruct the model nor ride out in an answer."""

from __future__ import annotations

import re

INVISIBLE = re.compile(
    "["
    "\U000e0000-\U000e007f"  # tag characters
    "\u200b-\u200f"  # zero-width space/joiners, LRM/RLM
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\u00ad"  # soft hyphen
    "\u180e"  # Mongolian vowel separator
    "\ufeff"  # zero-width no-break space (BOM)
    "\ufff9-\ufffb"  # interlinear annotation controls
    "]"
)


def strip_invisible(text: str) -> str:
    return INVISIBLE.sub("", text)
