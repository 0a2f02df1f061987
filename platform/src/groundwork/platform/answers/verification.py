"""Check every claim of an answer against the passages it cites; accept a claim only on lexical AND semantic evidence.

The method (docs/decisions/0002-claim-verification.md): each cited passage is split into sentences, and every
sentence and every window of `window_sentences` adjacent sentences is an evidence unit. A claim is supported
only if one unit of its cited passages passes every check:

1. hard gates, any failure rejects the unit: every number of the claim occurs in the unit; the claim and the
   unit agree on negation (`not`, `no`, `never`, `without`, `cannot`, `n't`, ...); the unit does not state the
   opposite direction (`increase` / `decrease`, `enable` / `disable`, ...); every name-like token of the claim
   (capitalised mid-sentence, camelCase, `code`, identifiers with digits, dots, slashes or underscores) occurs
   in the unit;
2. lexical coverage: the share of the claim's stemmed content words found in the unit is at least
   `min_coverage`;
3. semantic similarity: the cosine of the claim and the unit (the embedder's vectors) is at least
   `min_similarity`.

A claim with no citation, or citing a source number that was not given, is unsupported. The verifier is
deliberately conservative: a false "supported" is worse than a true claim flagged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import Stemmer
from pydantic import BaseModel, ConfigDict, Field

from groundwork.platform.answers.citations import MARKER_RE, Claim, split_sentences, strip_markers
from groundwork.retrieval.protocols import Embedder

__all__ = ["ClaimVerdict", "ClaimVerifier", "VerifierConfig"]


class VerifierConfig(BaseModel):
    """Thresholds of the claim verifier. Defaults are tuned on tests/platform/verification_cases.jsonl (ADR 0002)."""

    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)

    min_coverage: float = Field(default=0.8, ge=0.0, le=1.0)
    """Share of the claim's content words (stemmed, stop words removed) that the evidence unit must contain."""
    min_similarity: float = Field(default=0.6, ge=-1.0, le=1.0)
    """Cosine similarity of claim and evidence unit (all-MiniLM-L6-v2 vectors) that the unit must reach."""
    window_sentences: int = Field(default=2, ge=1, le=5)
    """Largest run of adjacent sentences of one passage scored as a single evidence unit."""
    lexical_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    """Weight of coverage in the reported score; similarity gets the rest (the score does not decide support)."""


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """The verifier's decision on one claim.

    `score` in [0, 1] blends coverage and similarity of the best evidence unit and is 0 when a hard gate
    failed; `supported` is the decision (all gates and both thresholds). `best_source` / `best_sentence`
    name that unit (None / "" when nothing was cited). `reasons` explain a rejection; empty when supported.
    """

    claim: Claim
    supported: bool
    score: float
    best_source: int | None
    best_sentence: str
    coverage: float
    similarity: float
    reasons: tuple[str, ...]


_WORD_RE = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\d])")
_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
    "sixty": "60",
    "hundred": "100",
    "thousand": "1000",
    "single": "1",
    "once": "1",
    "twice": "2",
    "half": "0.5",
    "dozen": "12",
}
_NEGATIONS = frozenset(
    {"not", "no", "never", "without", "cannot", "none", "nor", "neither", "nobody", "nothing", "unable", "lack"}
)
_NEGATION_SCOPE = 4
_STOP_WORD_TEXT = """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself of off on
    once only or other our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself yourselves may might must shall
    via per etc eg ie e g i according document documents documentation docs source sources passage passages
    state states stated say says said mention mentions mentioned note notes noted describe describes described
    explain explains explained provide provided provides use using used"""
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())
_OPPOSITES = (
    ("increase", "decrease"),
    ("increase", "reduce"),
    ("raise", "lower"),
    ("higher", "lower"),
    ("more", "less"),
    ("more", "fewer"),
    ("greater", "less"),
    ("larger", "smaller"),
    ("above", "below"),
    ("before", "after"),
    ("enable", "disable"),
    ("allow", "prevent"),
    ("allow", "deny"),
    ("allow", "block"),
    ("accept", "reject"),
    ("include", "exclude"),
    ("maximum", "minimum"),
    ("max", "min"),
    ("positive", "negative"),
    ("required", "optional"),
    ("synchronous", "asynchronous"),
    ("sync", "async"),
    ("inbound", "outbound"),
    ("input", "output"),
    ("upstream", "downstream"),
    ("first", "last"),
    ("success", "failure"),
    ("improve", "worsen"),
    ("activate", "inhibit"),
    ("activate", "suppress"),
    ("promote", "inhibit"),
    ("promote", "suppress"),
    ("stimulate", "inhibit"),
    ("induce", "inhibit"),
    ("increase", "inhibit"),
    ("upregulate", "downregulate"),
    ("gain", "loss"),
    ("benefit", "harm"),
    ("risk", "protect"),
    ("encrypt", "decrypt"),
    ("publish", "subscribe"),
    ("read", "write"),
    ("start", "stop"),
    ("open", "close"),
    ("add", "remove"),
    ("true", "false"),
    ("always", "sometimes"),
    ("all", "some"),
    ("client", "server"),
    ("local", "remote"),
    ("stateful", "stateless"),
    ("horizontal", "vertical"),
)


@dataclass(frozen=True, slots=True)
class _Features:
    """What the checks read from one text."""

    stems: frozenset[str]
    numbers: frozenset[str]
    negated: frozenset[str]
    """Stems in the scope of a negation cue (up to `_NEGATION_SCOPE` content words after it, within a clause)."""
    lowered: str


@dataclass(frozen=True, slots=True)
class _Unit:
    source: int
    text: str
    features: _Features


class _Analyzer:
    """Tokenises, stems and extracts numbers, negation and names; one per `verify` call (Stemmer is not thread-safe)."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._opposites = [(self.stem(a), self.stem(b)) for a, b in _OPPOSITES]

    def stem(self, word: str) -> str:
        return str(self._stemmer.stemWord(word))

    def features(self, text: str) -> _Features:
        lowered = strip_markers(text).lower().replace("\u2019", "'")
        words = _WORD_RE.findall(lowered)
        numbers = {_normalise_number(m.group()) for m in _NUMBER_RE.finditer(lowered)}
        numbers.update(_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS)
        negated: set[str] = set()
        for clause in re.split(r"[,;:.!?()]", lowered):
            scope = 0
            for word in _WORD_RE.findall(clause):
                if word in _NEGATIONS or word.endswith("n't"):
                    scope = _NEGATION_SCOPE
                    negated.add("")
                elif scope and word not in _STOP_WORDS:
                    negated.add(self.stem(word))
                    scope -= 1
        stems = {self.stem(w) for w in words if not w.isdigit() and w not in _NUMBER_WORDS}
        return _Features(
            stems=frozenset(stems), numbers=frozenset(numbers), negated=frozenset(negated), lowered=lowered
        )

    def content(self, text: str) -> frozenset[str]:
        """Stemmed content words: stop words, negations, number words and bare numbers removed."""
        words = _WORD_RE.findall(strip_markers(text).lower().replace("\u2019", "'"))
        return frozenset(
            self.stem(w)
            for w in words
            if w not in _STOP_WORDS
            and w not in _NEGATIONS
            and w not in _NUMBER_WORDS
            and not w.endswith("n't")
            and not w.replace(".", "").isdigit()
            and len(w) > 1
        )

    def opposite_stated(self, claim: _Features, unit: _Features) -> str | None:
        """A direction word of the claim whose opposite the unit states (and the claim's word it does not)."""
        for a, b in self._opposites:
            for said, other in ((a, b), (b, a)):
                if said in claim.stems and other in unit.stems and said not in unit.stems and other not in claim.stems:
                    return f"{said}/{other}"
        return None

    def names(self, text: str) -> list[str]:
        """Name-like tokens of a claim that must occur verbatim (case-insensitively) in the evidence."""
        bare = strip_markers(text)
        found = [m.group(1).lower() for m in re.finditer(r"`([^`]+)`", bare)]
        tokens = re.findall(r"[A-Za-z0-9][\w./:-]*[\w]|[A-Za-z]", re.sub(r"`[^`]+`", " ", bare))
        for index, token in enumerate(tokens):
            core = token.strip(".:/-")
            if not core or core.lower() in _STOP_WORDS:
                continue
            mixed = any(c.isupper() for c in core[1:]) and any(c.islower() for c in core)
            acronym = len(core) >= 2 and core.isupper() and core.isalpha()
            identifier = any(c in core for c in "_./:-") or (
                any(c.isdigit() for c in core) and any(c.isalpha() for c in core)
            )
            proper = index > 0 and core[0].isupper()
            if mixed or acronym or identifier or proper:
                found.append(core.lower())
        return found


def _normalise_number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def _name_present(name: str, unit: _Features, analyzer: _Analyzer) -> bool:
    if re.search(r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])", unit.lowered):
        return True
    words = _WORD_RE.findall(name)
    return bool(words) and all(analyzer.stem(w) in unit.stems for w in words)


REPORTED_UNITS = 3
"""Evidence units per claim scored for similarity although a lexical check fails, to report the closest."""


class ClaimVerifier:
    """Decides, claim by claim, whether the cited passages support it (see the module docstring for the method).

    `embedder` must be warmed up by the caller. One `verify` call makes one embedding call for all claims and
    the evidence units that can support them. Thread-safe: `verify` keeps no state between calls.
    """

    def __init__(self, embedder: Embedder, config: VerifierConfig | None = None) -> None:
        self._embedder = embedder
        self._config = config or VerifierConfig()

    @property
    def config(self) -> VerifierConfig:
        """The thresholds in use."""
        return self._config

    def _units(self, sources: Mapping[int, str], cited: set[int], analyzer: _Analyzer) -> dict[int, list[_Unit]]:
        units: dict[int, list[_Unit]] = {}
        for number in sorted(cited):
            passage = sources[number]
            sentences = [passage[a:b] for a, b in split_sentences(passage)]
            texts = [
                " ".join(sentences[i : i + size])
                for size in range(1, self._config.window_sentences + 1)
                for i in range(len(sentences) - size + 1)
            ]
            units[number] = [_Unit(number, text, analyzer.features(text)) for text in dict.fromkeys(texts)]
        return units

    def verify(self, claims: Sequence[Claim], sources: Mapping[int, str]) -> list[ClaimVerdict]:
        """One verdict per claim, in order, checking each claim only against the sources it cites.

        `sources` maps the source numbers shown to the model to passage text. A claim citing no source, or a
        number missing from `sources`, is unsupported. A code block (a fenced claim) is supported exactly
        when its body occurs verbatim (whitespace aside) in a cited source: code is quoted, never paraphrased.
        """
        verdicts = self._verify(claims, sources)
        return [_quoted_code(v, sources) or v for v in verdicts]

    def _verify(self, claims: Sequence[Claim], sources: Mapping[int, str]) -> list[ClaimVerdict]:
        analyzer = _Analyzer()
        checked = [c for c in claims if c.citations and not _invalid(c, sources)]
        cited = {n for c in checked for n in c.citations}
        units = self._units(sources, cited, analyzer)
        # Similarity is only worth computing where the lexical checks can pass (plus the best few units by
        # coverage, to report why a claim failed): embedding every window of every passage dominated the cost.
        shortlists = {
            c.text_without_markers: self._shortlist(c, [u for n in c.citations for u in units[n]], analyzer)
            for c in checked
        }
        unit_texts = list(dict.fromkeys(u.text for shortlist in shortlists.values() for u in shortlist))
        claim_texts = list(shortlists)
        vectors = self._embedder.embed_documents(claim_texts + unit_texts) if checked else None
        row = {text: i for i, text in enumerate(claim_texts + unit_texts)}

        verdicts: list[ClaimVerdict] = []
        for claim in claims:
            invalid = _invalid(claim, sources)
            if not claim.citations:
                verdicts.append(_rejected(claim, "no citation"))
            elif invalid:
                verdicts.append(_rejected(claim, "cites unknown source " + ", ".join(map(str, invalid))))
            else:
                if vectors is None:  # pragma: no cover - checked is non-empty whenever this branch runs
                    raise RuntimeError("embeddings missing for a checked claim")
                candidates = shortlists[claim.text_without_markers]
                sims = [float(vectors[row[claim.text_without_markers]] @ vectors[row[u.text]]) for u in candidates]
                verdicts.append(self._judge(claim, candidates, sims, analyzer))
        return verdicts

    def _shortlist(self, claim: Claim, candidates: Sequence[_Unit], analyzer: _Analyzer) -> list[_Unit]:
        """The units that pass every lexical check, and the `REPORTED_UNITS` best by coverage."""
        text = claim.text_without_markers
        content = analyzer.content(text)
        if not content:
            return []
        features, names = analyzer.features(text), analyzer.names(text)
        scored = [(self._lexical(content, features, names, unit, analyzer), unit) for unit in candidates]
        passing = [unit for (coverage, gates), unit in scored if not gates and coverage >= self._config.min_coverage]
        best = [unit for _, unit in sorted(scored, key=lambda item: -item[0][0])[:REPORTED_UNITS]]
        return list(dict.fromkeys([*passing, *best]))

    @staticmethod
    def _lexical(
        content: frozenset[str], features: _Features, names: Sequence[str], unit: _Unit, analyzer: _Analyzer
    ) -> tuple[float, list[str]]:
        """Coverage of the claim's content words by the unit, and the hard gates the unit fails."""
        coverage = len(content & unit.features.stems) / len(content)
        reasons: list[str] = []
        missing_numbers = sorted(features.numbers - unit.features.numbers)
        if missing_numbers:
            reasons.append("numbers not in evidence: " + ", ".join(missing_numbers))
        if _negation_differs(features, unit.features, content):
            reasons.append("negation differs from evidence")
        opposite = analyzer.opposite_stated(features, unit.features)
        if opposite is not None:
            reasons.append(f"evidence states the opposite ({opposite})")
        missing_names = [n for n in dict.fromkeys(names) if not _name_present(n, unit.features, analyzer)]
        if missing_names:
            reasons.append("names not in evidence: " + ", ".join(missing_names))
        return coverage, reasons

    def _judge(
        self, claim: Claim, candidates: Sequence[_Unit], sims: Sequence[float], analyzer: _Analyzer
    ) -> ClaimVerdict:
        content = analyzer.content(claim.text_without_markers)
        if not content:
            return _rejected(claim, "no content words to check")
        if not candidates:
            return _rejected(claim, "cited sources have no text")
        features = analyzer.features(claim.text_without_markers)
        names = analyzer.names(claim.text_without_markers)
        cfg = self._config
        best: tuple[bool, float, float, _Unit, float, list[str]] | None = None
        for unit, sim in zip(candidates, sims, strict=True):
            coverage, reasons = self._lexical(content, features, names, unit, analyzer)
            gated = not reasons
            if coverage < cfg.min_coverage:
                reasons.append(f"coverage {coverage:.2f} < {cfg.min_coverage:.2f}")
            if sim < cfg.min_similarity:
                reasons.append(f"similarity {sim:.2f} < {cfg.min_similarity:.2f}")
            blend = cfg.lexical_weight * coverage + (1.0 - cfg.lexical_weight) * max(0.0, min(1.0, sim))
            score = blend if gated else 0.0
            key = (not reasons, blend)
            if best is None or key > (best[0], best[4]):
                best = (not reasons, score, coverage, unit, blend, reasons)
        if best is None:  # pragma: no cover - candidates is non-empty
            raise RuntimeError("no evidence unit scored")
        supported, score, coverage, unit, _, reasons = best
        sim = sims[list(candidates).index(unit)]
        return ClaimVerdict(
            claim=claim,
            supported=supported,
            score=round(float(np.clip(score, 0.0, 1.0)), 4),
            best_source=unit.source,
            best_sentence=unit.text,
            coverage=round(coverage, 4),
            similarity=round(sim, 4),
            reasons=tuple(reasons),
        )


def _negation_differs(claim: _Features, unit: _Features, content: frozenset[str]) -> bool:
    """True when the claim negates something the unit does not negate, or asserts what the unit negates."""
    if claim.negated and not (claim.negated - {""}) & unit.negated:
        return True
    denied = (unit.negated - {""}) & content
    return bool(denied - claim.negated)


_FENCED = re.compile(r"\A\s*(```|~~~)[^\n]*\n(?P<body>.*?)\n\s*\1\s*\Z", re.DOTALL)


def _quoted_code(verdict: ClaimVerdict, sources: Mapping[int, str]) -> ClaimVerdict | None:
    """A supported verdict for a fenced code claim whose body is verbatim in one of its cited sources."""
    match = _FENCED.match(MARKER_RE.sub("", verdict.claim.text))
    if verdict.supported or match is None or not match.group("body").strip():
        return None
    body = " ".join(match.group("body").split())
    for number in verdict.claim.citations:
        if number in sources and body in " ".join(sources[number].split()):
            return ClaimVerdict(verdict.claim, True, 1.0, number, match.group("body"), 1.0, 1.0, ())
    return None


def _invalid(claim: Claim, sources: Mapping[int, str]) -> list[int]:
    return sorted({*claim.invalid_citations, *(n for n in claim.citations if n not in sources)})


def _rejected(claim: Claim, reason: str) -> ClaimVerdict:
    return ClaimVerdict(
        claim=claim,
        supported=False,
        score=0.0,
        best_source=None,
        best_sentence="",
        coverage=0.0,
        similarity=0.0,
        reasons=(reason,),
    )
