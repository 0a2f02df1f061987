"""The gates before generation: whether the retrieved passages can answer, refuse or answer with a caveat.

Each gate earns its place by a measured trade-off on realistic questions (docs/evaluation.md, `bench/
answer_gates.py`): a gate that refuses answerable questions more often than it catches unanswerable ones
answers with a caveat instead, or is off.

- relevance: no passage is similar enough to the question (`min_relevance`): refuse.
- names: the question names something (an identifier, an acronym, a product) that no passage mentions in any
  normalised form (`terms.py`). The asker's own team/service names, shorthand, numbers and HTTP verbs are not
  names the passages must repeat. A page about a whole class of things answers for the one instance a
  question names, so when the passages are clearly relevant the answer goes out with a caveat naming what
  they do not mention; only when they are not does the gate refuse.
- vocabulary: a content word that no document of the datastore contains in any form (the word, its
  shorthand expansion): the documents cannot state a fact about it. Refuses only when no passage is close
  to the question (`vocabulary_max_relevance`) and more than `vocabulary_max_unknown` words are unknown
  (a typo or a word of the asker's own is one unknown word, an off-corpus subject usually brings more).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from groundwork.platform.answers.answerability import missing_terms, vocabulary_words
from groundwork.platform.search import SearchHit

Action = Literal["refuse", "caveat", "off"]


@dataclass(frozen=True)
class GatePolicy:
    """What each gate does when it fires (defaults chosen on the tune half of the chat set)."""

    names: Action = "refuse"
    """Missing named terms when the best passage is below `names_caveat_relevance`."""
    names_caveat_relevance: float = 0.55
    """From this best-passage similarity on, missing names give a caveat instead of a refusal."""
    vocabulary: Action = "refuse"
    vocabulary_max_unknown: int = 0
    """Unknown words tolerated before the vocabulary gate fires (0: any unknown word fires it)."""


@dataclass(frozen=True)
class GateVerdict:
    refuse: bool
    notice: str | None
    """Why it refuses, or the caveat that goes with the answer; None when the gate passed cleanly."""


PASSED = GateVerdict(False, None)
_VERSION = re.compile(r"v?\d+(?:\.\d+)+|v\d+")


def _decide(action: Action, notice: str, refuse: bool) -> GateVerdict:
    if action == "off":
        return PASSED
    if action == "refuse" and refuse:
        return GateVerdict(True, notice)
    return GateVerdict(False, notice)


def check_names(question: str, passages: Iterable[str], best_relevance: float, policy: GatePolicy) -> GateVerdict:
    if policy.names == "off":
        return PASSED
    missing = missing_terms(question, passages)
    if not missing:
        return PASSED
    listed = ", ".join(missing)
    versions = [term for term in missing if _VERSION.fullmatch(term)]
    if versions and policy.names == "refuse":  # a version no passage mentions is one the docs do not cover
        return GateVerdict(True, f"No retrieved passage mentions {', '.join(versions)}.")
    if best_relevance >= policy.names_caveat_relevance or policy.names == "caveat":
        return GateVerdict(False, f"The sources found do not mention {listed}; this answer covers what they say.")
    return _decide(policy.names, f"No retrieved passage mentions {listed}.", True)


def check_vocabulary(
    question: str, unknown: Callable[[Sequence[str]], Sequence[str]], policy: GatePolicy
) -> GateVerdict:
    """`unknown(words)` returns those of `words` that no document contains (the lexical index's view)."""
    if policy.vocabulary == "off":
        return PASSED
    groups = vocabulary_words(question)
    absent = set(unknown([w for group in groups for w in group]))
    missing = [group[0] for group in groups if all(w in absent for w in group)]
    if not missing:
        return PASSED
    listed = ", ".join(repr(w) for w in missing)
    if len(missing) <= policy.vocabulary_max_unknown:
        return GateVerdict(False, f"The documents never mention {listed}; this answer covers the rest.")
    return _decide(policy.vocabulary, f"The documents never mention {listed}.", True)


def not_relevant(best_relevance: float | None, threshold: float) -> str:
    """The notice of a refusal because nothing retrieved is close enough to the question."""
    if best_relevance is None:
        return "Nothing in the datastores matched the question."
    return f"No passage is close enough to the question (best similarity {best_relevance:.2f}, needed {threshold:.2f})."


NOTHING_SUPPORTED = "No passage found states an answer to the question; the closest sources are listed."


def with_caveat(notice: str | None, caveat: str | None, *, answered: bool, gated: bool = False) -> str | None:
    """The final notice: an answer's caveat before its other notice; a refusal always says why. `gated`: the
    gates refused before anything was generated or quoted, and `notice` is their reason; otherwise a refusal
    found nothing supported, and a degraded-mode notice ("the language model is not available") follows."""
    if not answered:
        if gated and notice:
            return notice
        return f"{NOTHING_SUPPORTED} {notice}" if notice and notice != NOTHING_SUPPORTED else NOTHING_SUPPORTED
    if caveat and notice:
        return f"{caveat} {notice}"
    return caveat or notice


def closest_sources(hits: Sequence[SearchHit], limit: int = 3) -> list[dict[str, Any]]:
    """What a refusal lists: the best-ranked passage of each of the first `limit` documents retrieved."""
    seen: set[str] = set()
    closest: list[dict[str, Any]] = []
    for hit in hits:
        if hit.document_id in seen:
            continue
        seen.add(hit.document_id)
        closest.append(
            {
                "document_id": hit.document_id,
                "chunk_id": hit.chunk_id,
                "title": hit.title,
                "source_uri": hit.source_uri,
                "heading_path": list(hit.heading_path),
                "score": hit.score,
                "dense_score": hit.dense_score,
            }
        )
        if len(closest) == limit:
            break
    return closest
