"""The answer without a language model: the passages' own sentences closest to the question, cited.

Sentences are quoted from one document, the one retrieval ranked first, unless another document has a
sentence clearly closer to the question (by `OTHER_DOCUMENT_MARGIN`). Quoting the single best-ranked document
keeps the citations on the page that answers the question: on the Dapr question set, choosing the best
sentences across all passages cited a gold page 51% of the time, anchoring on the top document 78%
(docs/evaluation.md). A question asking for a quantity prefers sentences that give a number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from groundwork.platform.answers.answerability import expects_quantity, gives_number
from groundwork.platform.answers.context import Passage
from groundwork.retrieval.protocols import Embedder

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(\[])|\n{2,}")
MIN_SIMILARITY = 0.5
"""A sentence less similar than this to the question is not quoted (MiniLM cosine; on the Dapr question set
the best sentence for an answerable question scores 0.65 or more in nine cases out of ten)."""
OTHER_DOCUMENT_MARGIN = 0.1
"""A sentence from a document other than the anchor is quoted only if it beats the anchor's best by this."""
QUANTITY_BONUS = 0.1
"""Added to a sentence's similarity when the question asks for a quantity and the sentence gives a number."""


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 20]


def extract_answer(question: str, passages: Sequence[Passage], embedder: Embedder, sentences: int) -> str:
    """Up to `sentences` verbatim sentences in reading order, each ending with its passage's [n]; "" if none fits."""
    candidates = [(p, s) for p in passages for s in split_sentences(p.text)]
    if not candidates:
        return ""
    question_vector = embedder.embed_queries([question])[0]
    vectors = embedder.embed_documents([s for _, s in candidates])
    scores = vectors @ question_vector
    if expects_quantity(question):
        scores = scores + np.array([QUANTITY_BONUS * gives_number(s, question) for _, s in candidates])
    order = [int(i) for i in np.argsort(-scores) if scores[i] >= MIN_SIMILARITY]
    if not order:
        return ""
    documents = [p.hit.document_id for p, _ in candidates]
    anchor = passages[0].hit.document_id
    if anchor not in (documents[i] for i in order):
        anchor = documents[order[0]]
    anchor_best = max(float(scores[i]) for i in order if documents[i] == anchor)
    chosen = [i for i in order if documents[i] == anchor or scores[i] >= anchor_best + OTHER_DOCUMENT_MARGIN]
    parts = []
    for i in sorted(chosen[:sentences]):  # reading order
        passage, sentence = candidates[i]
        body = sentence.rstrip()
        if body[-1] in ".!?":
            parts.append(f"{body[:-1]} [{passage.number}]{body[-1]}")
        else:
            parts.append(f"{body} [{passage.number}].")
    return " ".join(parts)
