"""Turn a follow-up question into a standalone query for retrieval.

Deterministic on purpose: a small model rewrites unreliably, and retrieval only needs the subject the
follow-up leaves implicit. A question that refers back (pronouns, "it", "that", very short) gets the content
words of the previous question that it does not already contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[A-Za-z0-9][\w.-]*")
_REFERRING = {
    "it", "its", "they", "them", "their", "this", "that", "these", "those", "he", "she", "there", "one",
    "ones", "same", "also", "instead", "else", "more", "other",
}  # fmt: skip
_STOP = {
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "was", "were", "be",
    "do", "does", "did", "how", "what", "which", "who", "when", "where", "why", "can", "could", "should",
    "would", "i", "we", "you", "my", "our", "your", "by", "from", "at", "as", "about", "into", "if", "then",
    "there", "please", "tell", "me", "explain",
}  # fmt: skip


def standalone_query(question: str, previous_questions: Sequence[str]) -> str:
    """`question`, completed with the subject of the previous question when it depends on it."""
    if not previous_questions:
        return question
    words = [w.lower() for w in _WORD.findall(question)]
    refers_back = any(w in _REFERRING for w in words) or len([w for w in words if w not in _STOP]) <= 2
    if not refers_back:
        return question
    present = set(words)
    carried: list[str] = []
    for word in _WORD.findall(previous_questions[-1]):
        lowered = word.lower()
        if lowered not in _STOP and lowered not in _REFERRING and lowered not in present and word not in carried:
            carried.append(word)
    return f"{question} ({' '.join(carried)})" if carried else question
