"""The answer without a language model: the passages' own sentences closest to the question, cited.

Sentences are quoted from one document, the one retrieval ranked first, unless another document has a
sentence clearly closer to the question (by `OTHER_DOCUMENT_MARGIN`). Quoting the single best-ranked document
keeps the citations on the page that answers the question: on the Dapr question set, choosing the best
sentences across all passages cited a gold page 51% of the time, anchoring on the top document 78%
(docs/evaluation.md). A question asking for a quantity prefers sentences that give a number.

A how-to question ("how do i enable ...", "which flag", "example yaml") also gets the code the quoted
document holds: the command, YAML/JSON snippet, code block or table row (`snippets.py`) that shares the most
of the question's words, nearest the quoted sentence, as a fenced code block with its citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from groundwork.platform.answers.answerability import content_words, expects_quantity, gives_number, named_terms
from groundwork.platform.answers.context import Passage
from groundwork.platform.answers.snippets import HOW_TO, best_snippet, fenced, is_code, snippets
from groundwork.retrieval.protocols import Embedder

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(\[])|\n{2,}")
MIN_SIMILARITY = 0.5
"""A sentence less similar than this to the question is not quoted (MiniLM cosine; on the Dapr question set
the best sentence for an answerable question scores 0.65 or more in nine cases out of ten)."""
OTHER_DOCUMENT_MARGIN = 0.1
"""A sentence from a document other than the anchor is quoted only if it beats the anchor's best by this."""
QUANTITY_BONUS = 0.1
"""Added to a sentence's similarity when the question asks for a quantity and the sentence gives a number."""


_ITEM = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")
LIST_ITEMS = 5
"""List items quoted after a quoted sentence that introduces them ("UploadFile has the following attributes:")."""


_CHANGELOG = re.compile(r"\bPR \[?#\d+|\bby \[?@[\w-]+|^\W{0,3}[\U0001F300-\U0001FAFF\u2600-\u27BF]")
"""A changelog entry ("✨ Add support for X. PR #1234 by @someone."): it says a change happened, not how
the thing works; a release-notes page mentions nearly everything once, so its lines are never quoted."""


def _units(text: str) -> list[tuple[str, bool]]:
    """A passage's quotable units in order, each flagged whether it is a list item: sentences of prose
    blocks, and whole list items (an item's "Defaults to 600." stays with the setting it belongs to)."""
    units: list[tuple[str, bool]] = []
    for block in re.split(r"\n{2,}", text):
        lines = [line for line in block.split("\n") if line.strip()]
        if lines and _ITEM.match(lines[0]) and not is_code(block):
            items: list[str] = []
            for line in lines:
                if _ITEM.match(line) or not items:
                    items.append(_ITEM.sub("", line, count=1).strip())
                else:
                    items[-1] += " " + line.strip()
            units.extend((item, True) for item in items if len(item) > 12)
            continue
        units.extend((s.strip(), False) for s in _SENTENCE.split(block) if len(s.strip()) > 20 and not is_code(s))
    return [(unit, item) for unit, item in units if not _CHANGELOG.search(unit)]


def split_sentences(text: str) -> list[str]:
    return [unit for unit, _ in _units(text)]


def _with_items(order: list[int], candidates: list[tuple[Passage, str, bool]]) -> list[int]:
    """`order` with, after each sentence ending in a colon, the list items that follow it in its passage."""
    out: list[int] = []
    for i in order:
        out.append(i)
        if not candidates[i][1].rstrip().endswith(":"):
            continue
        for j in range(i + 1, min(i + 1 + LIST_ITEMS, len(candidates))):
            if candidates[j][0] is not candidates[i][0] or not candidates[j][2]:
                break
            out.append(j)
    return list(dict.fromkeys(out))


def _quoted_code(question: str, chosen: list[tuple[Passage, str]], passages: Sequence[Passage]) -> str:
    """The fenced snippet of the quoted document that best fits a how-to question, or ""."""
    if not chosen or HOW_TO.search(question) is None:
        return ""
    anchor = chosen[0][0].hit.document_id
    candidates = []
    for passage in passages:
        if passage.hit.document_id != anchor:
            continue
        at = min((passage.text.find(s) for p, s in chosen if p is passage), default=-1)
        for snippet in snippets(passage.text):
            distance = abs(snippet.start - at) if at >= 0 else 10_000 + snippet.start
            candidates.append((passage.number, snippet, distance))
    found = best_snippet([*named_terms(question), *content_words(question)], candidates, question)
    return "" if found is None else fenced(found[1], found[0])


def extract_answer(question: str, passages: Sequence[Passage], embedder: Embedder, sentences: int) -> str:
    """Up to `sentences` verbatim sentences in reading order, each ending with its passage's [n]; "" if none fits."""
    units = [(p, s, item) for p in passages for s, item in _units(p.text)]
    candidates = [(p, s) for p, s, _ in units]
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
    quoted = [candidates[i] for i in _with_items(sorted(chosen[:sentences]), units)]  # reading order
    for passage, sentence in quoted:
        body = sentence.rstrip().rstrip(":")
        if body[-1] in ".!?":
            parts.append(f"{body[:-1]} [{passage.number}]{body[-1]}")
        else:
            parts.append(f"{body} [{passage.number}].")
    code = _quoted_code(question, [candidates[i] for i in chosen[:1]] + quoted, passages)
    return " ".join(parts) + (f"\n\n{code}" if code else "")
