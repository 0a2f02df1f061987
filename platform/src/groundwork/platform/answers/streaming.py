"""Verified streaming: the model's stream cut into claims as their sentences complete, each claim verified the
moment it is complete, and released to the reader only when the answer it belongs to is sure to stand.

Three parts, used by `AnswerService` in this order for every delta of the model's stream:

- `ClaimSplitter` re-parses the text so far (`citations.parse_claims`, the same splitter the final answer uses)
  and reports the claims that can no longer change: every claim but the last, once the text after it has begun
  a new sentence (a letter outside a citation marker: `Foo. [` or `Foo. [1` still waits for its marker), and
  the last one as soon as it ends with a marker and its full stop (`Foo [1].`, the form the prompt asks for);
  `finish()` completes the last one.
- `check_claims` verifies claims against the passages they cite, re-attributing an uncited or mis-cited claim
  to a passage that supports it (the corrected citation is what the reader sees).
- `ClaimGate` decides what is shown. Nothing is shown until the answer is committed: a supported claim has
  passed (and, for a question asking for a quantity, a supported claim gives one), so a shown claim is never
  contradicted by a later refusal. After that, supported claims are released as they pass; unsupported ones
  are held back (`remove`) or released marked unsupported (`flag`). A repeated claim is never shown twice.
  `FallbackMonitor` watches the same verdicts: when `failures` of the first `window` claims fail, or the model
  repeats itself, the caller stops generation (which aborts the request on the vLLM server) and answers from
  the extractive fallback at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import Stemmer

from groundwork.platform.answers.citations import Claim, parse_claims
from groundwork.platform.answers.verification import ClaimVerdict, ClaimVerifier

__all__ = [
    "ClaimGate",
    "ClaimSplitter",
    "FallbackMonitor",
    "Released",
    "check_claims",
    "claim_key",
    "looping",
]

_PARTIAL_MARKER = re.compile(r"\[[\d\s,\-\u2013]*$")
_CITED_END = re.compile(r"\[\s*\d[\d\s,\-\u2013]*\]\s*[.!?]$")
_LOOP = re.compile(r"(.{2,40}?)\1{5,}$", re.DOTALL)
LOOP_MIN_CHARS = 40
"""A run of one short unit repeated (`-once-once-once...`) counts as looping once it is this long."""


def claim_key(claim: Claim) -> str:
    """What makes two claims the same claim (a small model repeats sentences with other markers)."""
    return " ".join(claim.text_without_markers.lower().split())


def looping(text: str) -> bool:
    """True when `text` ends in one short unit repeated six times or more (at least `LOOP_MIN_CHARS`), with a
    letter in it: `x-cors-once-once-once-once-once-once`. Table rules (`|---|---|`) have no letter."""
    match = _LOOP.search(text[-400:])
    if match is None:
        return False
    return len(match.group(0)) >= LOOP_MIN_CHARS and any(c.isalpha() for c in match.group(1))


class ClaimSplitter:
    """Claims of a growing text, each reported once, when complete."""

    def __init__(self, source_ids: Sequence[int]) -> None:
        self._source_ids = list(source_ids)
        self._text = ""
        self._reported = 0

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._text

    @property
    def pending(self) -> str:
        """The text after the last claim reported (the sentence being written)."""
        claims = parse_claims(self._text, source_ids=self._source_ids)
        if self._reported == 0 or not claims:
            return self._text
        return self._text[claims[min(self._reported, len(claims)) - 1].end :]

    def feed(self, delta: str) -> list[Claim]:
        self._text += delta
        claims = parse_claims(self._text, source_ids=self._source_ids)
        complete = len(claims) - 1
        if complete > 0 and not _begun(claims[-1]):
            complete -= 1  # the last "claim" may still be the previous sentence's marker
        elif claims and _CITED_END.search(claims[-1].text):
            complete = len(claims)  # `... [1].`: cited before its full stop, it is complete already
        return self._take(claims, complete)

    def finish(self) -> list[Claim]:
        claims = parse_claims(self._text, source_ids=self._source_ids)
        return self._take(claims, len(claims))

    def _take(self, claims: list[Claim], complete: int) -> list[Claim]:
        fresh = claims[self._reported : max(self._reported, complete)]
        self._reported = max(self._reported, complete)
        return fresh


def _begun(claim: Claim) -> bool:
    """Whether `claim` is the start of a new sentence rather than a citation marker still being written."""
    return any(c.isalpha() for c in _PARTIAL_MARKER.sub("", claim.text_without_markers))


def check_claims(verifier: ClaimVerifier, claims: Sequence[Claim], sources: Mapping[int, str]) -> list[ClaimVerdict]:
    """Verify each claim against the passages it cites. A claim the model left uncited, or cited to a passage
    that does not support it, is re-attributed to the passage that does, if one does: the claim then carries
    the corrected citation (reason `citation added` / `citation corrected`)."""
    if not claims:
        return []
    verdicts = verifier.verify(claims, sources)
    stems = _Stems()
    passages = {n: stems.of(text) for n, text in sources.items()}
    retry: list[int] = []
    candidates: list[Claim] = []
    for i, verdict in enumerate(verdicts):
        # Only passages holding most of the claim's words can support it (a unit's words are a subset of its
        # passage's, and verification needs `min_coverage` of them): a hopeless claim costs no second embedding.
        words = stems.of(verdict.claim.text_without_markers, content=True)
        able = tuple(n for n, have in passages.items() if words and len(words & have) >= PREFILTER * len(words))
        if not verdict.supported and able:
            retry.append(i)
            candidates.append(replace(verdict.claim, citations=able, invalid_citations=()))
    if not retry:
        return verdicts
    for i, verdict in zip(retry, verifier.verify(candidates, sources), strict=True):
        if verdict.supported and verdict.best_source is not None:
            original = verdicts[i].claim
            claim = replace(
                original,
                text=with_marker(original.text_without_markers, verdict.best_source),
                citations=(verdict.best_source,),
                invalid_citations=(),
            )
            note = "citation added" if not original.citations else "citation corrected"
            verdicts[i] = replace(verdict, claim=claim, reasons=(note,))
    return verdicts


PREFILTER = 0.5
"""Re-attribution tries a passage only if it holds at least this share of the claim's content words (stemmed;
the verifier itself requires `min_coverage`, 0.8 by default, of one evidence unit)."""
_WORDS = re.compile(r"[a-z0-9]+")
_STOP_TEXT = "the and for are was were with that this from into have has had not but can its you your"
_SHORT_STOP = frozenset(_STOP_TEXT.split())


class _Stems:
    """Snowball stems of a text's words (one per `check_claims` call: the stemmer is not thread-safe)."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")

    def of(self, text: str, *, content: bool = False) -> frozenset[str]:
        words = _WORDS.findall(text.lower())
        if content:
            words = [w for w in words if len(w) > 2 and w not in _SHORT_STOP and not w.isdigit()]
        return frozenset(self._stemmer.stemWords(words))


def with_marker(text: str, number: int) -> str:
    """`text` citing source `number`, the marker before the final full stop."""
    body = text.rstrip()
    if body and body[-1] in ".!?":
        return f"{body[:-1]} [{number}]{body[-1]}"
    return f"{body} [{number}]"


@dataclass(frozen=True)
class Released:
    """A claim the reader may see now."""

    verdict: ClaimVerdict
    origin: Literal["model", "extractive"]


@dataclass
class ClaimGate:
    """What of the verified claims is shown, and when (see the module docstring). `commits(supported texts)`
    says whether the supported claims so far make an answer (the quantity gate)."""

    unsupported: Literal["remove", "flag"]
    commits: Callable[[list[str]], bool]
    checked: list[ClaimVerdict] = field(default_factory=list)
    """Every distinct claim verified, in order (the final answer's `claims`)."""
    shown: list[Released] = field(default_factory=list)
    """Every claim released, in order: the final answer is exactly these."""
    _pending: list[Released] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    @property
    def committed(self) -> bool:
        return bool(self.shown)

    def admit(self, verdict: ClaimVerdict, origin: Literal["model", "extractive"]) -> tuple[list[Released], bool]:
        """The claims released by this verdict (possibly earlier held ones too), and whether it repeated an
        earlier claim (then it is ignored)."""
        key = claim_key(verdict.claim)
        if key in self._seen:
            return [], True
        self._seen.add(key)
        self.checked.append(verdict)
        if not verdict.supported and self.unsupported == "remove":
            return [], False
        candidate = Released(verdict, origin)
        if self.committed:
            self.shown.append(candidate)
            return [candidate], False
        self._pending.append(candidate)
        supported = [r.verdict.claim.text for r in self._pending if r.verdict.supported]
        if not supported or not self.commits(supported):
            return [], False
        released, self._pending = self._pending, []
        self.shown.extend(released)
        return released, False


@dataclass
class FallbackMonitor:
    """Whether the model's answer is worth waiting for: `failures` of its first `window` distinct claims
    unsupported, or `max_repeats` repeated claims, or a looping tail, say it is not."""

    window: int
    failures: int
    max_repeats: int
    _checked: int = 0
    _failed: int = 0
    _repeats: int = 0

    def record(self, verdict: ClaimVerdict, repeated: bool) -> str | None:
        """The reason to stop (`unsupported`, `repetition`) after this verdict, or None."""
        if repeated:
            self._repeats += 1
            return "repetition" if self.max_repeats and self._repeats >= self.max_repeats else None
        self._checked += 1
        if self._checked <= self.window and not verdict.supported:
            self._failed += 1
            if self.failures and self._failed >= self.failures:
                return "unsupported"
        return None
