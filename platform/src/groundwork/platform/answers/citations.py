"""Split a generated answer into claims and parse the inline citation markers of each.

An answer cites numbered sources with markers such as `[1]`, `[2][3]`, `[1, 3]` or `[2-4]`, placed before or
after the sentence's full stop. `parse_claims` returns one `Claim` per sentence (or bullet item, or code block)
with character offsets into the answer, so a caller can flag or cut a claim in place; `remove_claims` and
`compact_citations` rebuild the answer text once unsupported claims are dropped.

Pure Python, no third-party imports: this module is safe anywhere in the platform core.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_RANGE_SPAN",
    "Claim",
    "compact_citations",
    "parse_claims",
    "parse_marker",
    "remove_claims",
    "renumber_citations",
    "split_sentences",
    "strip_citations",
    "strip_markers",
]

MAX_RANGE_SPAN = 20
"""A range marker `[n-m]` covering more than this many sources is treated as malformed (both ends invalid)."""

MARKER_RE = re.compile(r"\[\s*(\d+(?:\s*(?:,|-|\u2013)\s*\d+)*)\s*\]")
"""One citation marker: `[1]`, `[1, 3]`, `[2-4]`, `[1,3-5]` (an en dash also makes a range)."""

_FENCE_RE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_INLINE_CODE_RE = re.compile(r"`[^`\n]+`")
_URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]]+")
_BULLET_RE = re.compile(r"[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+")
_BLOCK_START_RE = re.compile(r"[ \t]*(?:[-*+\u2022][ \t]|\d{1,3}[.)][ \t]|#|\||>|```|~~~)")
_HEADING_RE = re.compile(r"[ \t]*#{1,6}[ \t]")
_TERMINATOR_RE = re.compile(r"[.!?\u2026]+")
_CLOSERS = "\"')\u201d\u2019*_"

_ABBREVIATIONS = frozenset(
    {
        "eg",
        "ie",
        "vs",
        "cf",
        "al",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "fig",
        "figs",
        "approx",
        "incl",
        "esp",
        "viz",
        "ca",
        "resp",
        "jr",
        "sr",
        "st",
        "no",
        "nos",
        "vol",
        "eq",
        "ref",
        "sec",
    }
)
"""Words (dots removed, lowercased) whose trailing full stop does not end a sentence."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence-level claim of an answer.

    `text` is exactly `answer[start:end]` (markers included, bullet prefix excluded). `citations` are the
    source numbers its markers name, sorted and unique; `invalid_citations` the subset that names no known
    source (only known when `parse_claims` is given `source_ids`) or comes from a malformed range.
    """

    text: str
    text_without_markers: str
    citations: tuple[int, ...]
    start: int
    end: int
    invalid_citations: tuple[int, ...] = ()


def parse_marker(body: str) -> tuple[list[int], list[int]]:
    """Numbers named by the inside of one marker (`"1, 3-5"` -> 1, 3, 4, 5) and the malformed ones.

    A range whose end is below its start or that spans more than `MAX_RANGE_SPAN` sources is malformed:
    its two ends are returned as invalid and nothing in between is cited.
    """
    numbers: list[int] = []
    invalid: list[int] = []
    for part in body.split(","):
        bounds = [int(b) for b in re.split(r"\s*[-\u2013]\s*", part.strip()) if b]
        if len(bounds) == 1:
            numbers.append(bounds[0])
        elif len(bounds) == 2 and 0 <= bounds[1] - bounds[0] < MAX_RANGE_SPAN:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:
            invalid.extend(bounds)
    return numbers, invalid


def strip_markers(text: str) -> str:
    """`text` without citation markers (code left alone), whitespace collapsed, no space before punctuation."""
    stripped = renumber_citations(text, {})
    stripped = re.sub(r"\s+", " ", stripped).strip()
    return re.sub(r"\s+([.,;:!?])", r"\1", stripped)


def _protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans where no sentence may end and no marker is read: code blocks, inline code, URLs."""
    spans = [m.span() for m in _FENCE_RE.finditer(text)]
    for regex in (_INLINE_CODE_RE, _URL_RE):
        spans.extend(m.span() for m in regex.finditer(text) if not _inside(m.start(), spans))
    return sorted(spans)


def _inside(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _blocks(text: str, fences: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Paragraph-like blocks: a blank line, a list item, a heading, a table row or a code fence starts a new one.

    A single newline inside running prose (a soft wrap) does not end a block.
    """
    pos = 0
    block_start = 0
    n = len(text)
    while pos < n:
        fence = next((span for span in fences if span[0] == pos), None)
        if fence is not None:
            if block_start < pos:
                yield block_start, pos
            yield fence
            pos = block_start = fence[1]
            continue
        newline = text.find("\n", pos)
        if newline == -1:
            break
        line = text[pos:newline]
        nxt = newline + 1
        next_line_end = text.find("\n", nxt)
        next_line = text[nxt : n if next_line_end == -1 else next_line_end]
        boundary = (
            not next_line.strip()
            or not line.strip()
            or _BLOCK_START_RE.match(next_line) is not None
            or _HEADING_RE.match(line) is not None
            or line.lstrip().startswith("|")
            or line.rstrip().endswith(":")
            or any(span[0] == nxt for span in fences)
        )
        if boundary:
            if block_start < newline:
                yield block_start, newline
            block_start = nxt
        pos = nxt
    if block_start < n:
        yield block_start, n


def _sentence_ends(text: str, start: int, end: int, protected: Sequence[tuple[int, int]]) -> Iterator[int]:
    """Offsets (exclusive) where a sentence of `text[start:end]` ends, trailing markers included."""
    for match in _TERMINATOR_RE.finditer(text, start, end):
        stop, after = match.start(), match.end()
        if _inside(stop, protected):
            continue
        if after < end and not text[after].isspace() and text[after] not in _CLOSERS + "[":
            continue  # 1.5, e.g, config.yaml, v1.2.3
        if text[stop] == "." and match.group() == ".":
            word = re.search(r"([A-Za-z.]+)$", text[start:stop])
            token = word.group(1).replace(".", "").lower() if word else ""
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
        while after < end and text[after] in _CLOSERS:
            after += 1
        while True:  # markers written after the full stop belong to this sentence
            probe = after
            while probe < end and text[probe] in " \t":
                probe += 1
            marker = MARKER_RE.match(text, probe, end)
            if marker is None:
                break
            after = marker.end()
        rest = text[after:end].lstrip()
        if rest and (rest[0].islower() or rest[0] in ",;:"):
            continue  # "approx. five", a lower-case continuation
        yield after


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (claims) of `text`, whitespace and list bullets trimmed.

    Handles abbreviations (`e.g.`, `i.e.`, `vs.`), decimals and versions (`1.5`, `v1.2.3`), file names,
    inline code, URLs, fenced code blocks (one span each), list items and headings (one span per line), and
    citation markers written after the full stop (kept with the sentence they follow).
    """
    protected = _protected_spans(text)
    fences = [m.span() for m in _FENCE_RE.finditer(text)]
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text, fences):
        bullet = _BULLET_RE.match(text, block_start, block_end)
        if bullet is not None:
            block_start = bullet.end()
        if (block_start, block_end) in fences:
            pieces: Iterator[int] = iter(())
        else:
            pieces = _sentence_ends(text, block_start, block_end, protected)
        cursor = block_start
        for stop in [*pieces, block_end]:
            piece = text[cursor:stop]
            lead = len(piece) - len(piece.lstrip())
            trimmed = piece.strip()
            if trimmed:
                spans.append((cursor + lead, cursor + lead + len(trimmed)))
            cursor = stop
    return spans


def _markers(text: str, start: int, end: int, protected: Sequence[tuple[int, int]]) -> Iterator[re.Match[str]]:
    for marker in MARKER_RE.finditer(text, start, end):
        if not _inside(marker.start(), protected):
            yield marker


def parse_claims(answer: str, source_ids: Collection[int] | None = None) -> list[Claim]:
    """Split `answer` into claims and parse each claim's citation markers.

    With `source_ids` (the numbers of the sources the prompt listed), a cited number outside them is reported
    in `Claim.invalid_citations`; malformed ranges are reported there either way. A span that holds nothing
    but markers (e.g. a line `[2]`) is folded into the claim before it.
    """
    protected = _protected_spans(answer)
    claims: list[Claim] = []
    for start, end in split_sentences(answer):
        numbers: set[int] = set()
        invalid: set[int] = set()
        for marker in _markers(answer, start, end, protected):
            cited, bad = parse_marker(marker.group(1))
            numbers.update(cited)
            numbers.update(bad)
            invalid.update(bad)
        if source_ids is not None:
            invalid.update(n for n in numbers if n not in source_ids)
        text = answer[start:end]
        bare = strip_markers(text)
        if not re.search(r"\w", bare) and claims:
            previous = claims.pop()
            start = previous.start
            text = answer[start:end]
            bare = previous.text_without_markers
            numbers.update(previous.citations)
            invalid.update(previous.invalid_citations)
        claims.append(
            Claim(
                text=text,
                text_without_markers=bare,
                citations=tuple(sorted(numbers)),
                start=start,
                end=end,
                invalid_citations=tuple(sorted(invalid)),
            )
        )
    return claims


def renumber_citations(text: str, mapping: Mapping[int, int]) -> str:
    """Rewrite every marker of `text` through `mapping` (old number -> new number).

    Numbers absent from `mapping` are dropped; a marker left with no number is removed with the space before
    it. Rewritten markers are written one number each, `[1][3]`. Markers inside code are left alone.
    """
    protected = _protected_spans(text)
    out: list[str] = []
    cursor = 0
    for marker in _markers(text, 0, len(text), protected):
        cited, _ = parse_marker(marker.group(1))
        kept = sorted({mapping[n] for n in cited if n in mapping})
        prefix = text[cursor : marker.start()]
        if not kept:
            prefix = prefix.rstrip(" \t")
        out.append(prefix)
        out.append("".join(f"[{n}]" for n in kept))
        cursor = marker.end()
    out.append(text[cursor:])
    return "".join(out)


def strip_citations(text: str) -> str:
    """`text` with every citation marker removed (and the space before it)."""
    return renumber_citations(text, {})


def compact_citations(text: str) -> tuple[str, dict[int, int]]:
    """Renumber the markers of `text` 1, 2, ... in order of first appearance.

    Returns the new text and the mapping old number -> new number, which the caller applies to its source
    list so that the sources shown match the markers left after claims were removed.
    """
    protected = _protected_spans(text)
    mapping: dict[int, int] = {}
    for marker in _markers(text, 0, len(text), protected):
        cited, _ = parse_marker(marker.group(1))
        for number in cited:
            mapping.setdefault(number, len(mapping) + 1)
    return renumber_citations(text, mapping), mapping


def remove_claims(answer: str, claims: Sequence[Claim], remove: Collection[int]) -> str:
    """`answer` with the claims at the indexes `remove` cut out.

    Cuts each claim's span with the spaces after it; a list item or line left empty is dropped, and runs of
    blank lines are collapsed. Combine with `compact_citations` to renumber what remains.
    """
    text = answer
    for index in sorted(set(remove), reverse=True):
        claim = claims[index]
        end = claim.end
        while end < len(text) and text[end] in " \t":
            end += 1
        start = claim.start
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end == -1 else line_end
        remaining = text[line_start:start] + text[end:line_end]
        if not remaining.strip() or _BULLET_RE.fullmatch(remaining) or remaining.strip() in "-*+\u2022":
            start, end = line_start, min(line_end + 1, len(text))
        text = text[:start] + text[end:]
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


class CitationOrder:
    """Display numbers for sources in order of first appearance in an answer: the first source cited is [1],
    the next new one [2], ... whatever the passages' numbers in the prompt were. One per answer; claims are
    fed in the order they are shown (streamed claims and the final answer then agree)."""

    def __init__(self) -> None:
        self.mapping: dict[int, int] = {}

    def number(self, source: int) -> int:
        """The display number of prompt source `source`, assigned on first use."""
        return self.mapping.setdefault(source, len(self.mapping) + 1)

    def apply(self, text: str, cited: Sequence[int]) -> tuple[str, list[int]]:
        """`text` with its markers renumbered, and the display numbers of `cited` (in marker order first)."""
        protected = _protected_spans(text)
        for marker in _markers(text, 0, len(text), protected):
            for source in parse_marker(marker.group(1))[0]:
                self.number(source)
        numbers = [self.number(source) for source in cited]
        return renumber_citations(text, self.mapping), numbers
