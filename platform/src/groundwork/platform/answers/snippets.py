"""Code in a passage: the command, YAML/JSON snippet, code block or table row a how-to answer should quote.

Chunk text keeps a document's blocks separated by blank lines, but not their kind: a code block is its lines
as written. `snippets` finds the blocks that read as code (shell commands, `key: value` YAML, JSON or code
with brackets, indentation and operators) or as table rows (`a | b | c`), and `best_snippet` picks the one
that shares the most of the question's words (identifiers split, stemmed), preferring the block next to the
sentence an answer already quotes. `fenced` renders it as a Markdown code block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from groundwork.platform.answers.terms import PassageTerms, forms

_BLOCK_SPLIT = re.compile(r"\n\s*\n")
_COMMAND = re.compile(
    r"^\s*(?:\$ |# |(?:argocd|kubectl|helm|kustomize|git|docker|pip|pipx|uv|python|python3|fastapi|uvicorn|"
    r"curl|npm|npx|yarn|go|make|influx|influxd|telegraf|dapr|gcloud|aws|az|brew|apt|apt-get|export|"
    r"openssl|ssh-keygen|jq|echo|cat)\b)"
)
_YAML_LINE = re.compile(r"^\s*(?:- )?[\w.\-/\"']+:(?:\s|$)|^\s*- [^\s:]+$")
_CODE_LINE = re.compile(r"[{}()\[\];=<>]|^\s{2,}\S|^\s*(?:def|class|import|from|return|async|await|@)\b")
_TABLE_ROW = re.compile(r"^[^|\n]+(?:\|[^|\n]*){2,}$")
_PROSE = re.compile(r"[a-z]{3,} [a-z]{3,} [a-z]{3,} [a-z]{3,} [a-z]{3,}[^|]*[.:]$")
HOW_TO = re.compile(
    r"\b(how (?:do|can|to|would|should)|how'?d|example|snippet|config(?:ure)?|cfg|set ?up|enable|disable|turn on|"
    r"install|command|cmd|cli|flag|annotation|yaml|json|syntax|spec|manifest|code|write|add|create|run|use|"
    r"return|mount|override|define|declare|pass|expose|restrict|deploy|sync|login|connect|generate|hide|mark|"
    r"backup|back up|restore|rollback|roll back|upgrade|migrate|export|import|delete|remove|rotate|scale|test)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Snippet:
    text: str
    start: int
    """Offset of the snippet in its passage's text."""
    language: str
    """`bash`, `yaml`, `json`, `python` or "" (unknown, or a table row)."""


def _language(text: str) -> str:
    first = text.lstrip()
    if _COMMAND.match(first):
        return "bash"
    if first[:1] in "{[" and text.rstrip()[-1:] in "}]":
        return "json"
    lines = [line for line in text.splitlines() if line.strip()]
    if sum(bool(_YAML_LINE.match(line)) for line in lines) >= max(1, len(lines) * 0.6):
        return "yaml"
    if re.search(r"^\s*(?:def|class|import|from|@app)\b", text, re.MULTILINE):
        return "python"
    return ""


def is_code(block: str) -> bool:
    """Whether a blank-line separated block reads as a command, YAML/JSON or code rather than prose."""
    lines = [line for line in block.splitlines() if line.strip()]
    if not lines or _PROSE.search(lines[-1].strip()):
        return False
    if len(lines) == 1:
        line = lines[0]
        return bool(_COMMAND.match(line)) or re.match(r"^\s*[\w.\-/]+:\s+\S", line) is not None
    codey = sum(bool(_COMMAND.match(x) or _YAML_LINE.match(x) or _CODE_LINE.search(x)) for x in lines)
    return codey >= 0.7 * len(lines)


def snippets(text: str) -> list[Snippet]:
    """The code-like blocks and table rows of a passage's text, in order."""
    found: list[Snippet] = []
    cursor = 0
    for block in _BLOCK_SPLIT.split(text):
        start = text.find(block, cursor)
        cursor = start + len(block)
        if len(block.strip()) < 8:
            continue
        if is_code(block):
            found.append(Snippet(block.strip("\n"), start, _language(block)))
            continue
        lines = block.splitlines()
        if len(lines) >= 2 and all(_TABLE_ROW.match(line) for line in lines):
            offset = start
            for line in lines[1:]:  # the first row is the header
                offset = text.find(line, offset)
                found.append(Snippet(f"{lines[0]}\n{line}", offset, ""))
    return found


def _overlap(question_stems: list[tuple[str, ...]], snippet: str) -> int:
    terms = PassageTerms.of(snippet)
    return sum(any(terms.contains(s) for s in alternatives) for alternatives in question_stems)  # type: ignore[arg-type]


def question_stems(words: Iterable[str]) -> list[tuple[tuple[str, ...], ...]]:
    return [forms(w) for w in words]


_WANTS = {
    "bash": re.compile(r"\b(cli|command|cmd|terminal|shell|flag|run|install|kubectl|argocd)\b", re.I),
    "yaml": re.compile(r"\b(ya?ml|manifest|spec|annotation|configmap|cm|crd)\b", re.I),
    "python": re.compile(r"\b(python|code|function|decorator|class)\b", re.I),
}


def best_snippet(
    words: Iterable[str], candidates: Iterable[tuple[int, Snippet, int]], question: str = ""
) -> tuple[int, Snippet] | None:
    """The snippet sharing most question words (at least one), of the kind the question asks for ("via cli":
    a command; "in the manifest": YAML), nearest the quoted sentence on ties.

    `candidates` are (passage number, snippet, distance in characters from the quoted sentence)."""
    alternatives = question_stems(words)
    best: tuple[tuple[int, int], int, Snippet] | None = None
    for number, snippet, distance in candidates:
        score = _overlap(alternatives, snippet.text)  # type: ignore[arg-type]
        if score == 0:
            continue
        wanted = _WANTS.get(snippet.language)
        score += 2 if wanted is not None and wanted.search(question) else 0
        key = (score, -distance)
        if best is None or key > best[0]:
            best = (key, number, snippet)
    return None if best is None else (best[1], best[2])


def fenced(snippet: Snippet, number: int) -> str:
    """The snippet as a Markdown code block, its citation marker on the line after the fence."""
    body = snippet.text.rstrip()
    fence = "~~~" if "```" in body else "```"
    return f"{fence}{snippet.language}\n{body}\n{fence}\n[{number}]"
