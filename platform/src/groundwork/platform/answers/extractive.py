"""The answer without a language model: the passages' own sentences closest to the question, cited."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from groundwork.platform.answers.context import Passage
from groundwork.retrieval.protocols import Embedder

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(\[])|\n{2,}")
MIN_SIMILARITY = 0.5
"""A sentence less similar than this to the question is not quoted (MiniLM cosine; on the Dapr question set
the best sentence for an answerable question scores 0.65 or more in nine cases out of ten)."""


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 20]


def extract_answer(question: str, passages: Sequence[Passage], embedder: Embedder, sentences: int) -> str:
    """Up to `sentences` verbatim sentences, best first, each ending with its passage's [n]; "" if none fits."""
    candidates = [(p.number, s) for p in passages for s in split_sentences(p.text)]
    if not candidates:
        return ""
    question_vector = embedder.embed_queries([question])[0]
    vectors = embedder.embed_documents([s for _, s in candidates])
    scores = vectors @ question_vector
    chosen = [int(i) for i in np.argsort(-scores)[:sentences] if scores[i] >= MIN_SIMILARITY]
    parts = []
    for i in sorted(chosen):  # reading order
        number, sentence = candidates[i]
        body = sentence.rstrip()
        if body[-1] in ".!?":
            parts.append(f"{body[:-1]} [{number}]{body[-1]}")
        else:
            parts.append(f"{body} [{number}].")
    return " ".join(parts)
