"""Markdown parser (CommonMark + tables) with the dialects of real documentation sites.

Before parsing, the source is cleaned of what is not Markdown: YAML (`---`) or TOML (`+++`) front matter
becomes metadata, Hugo shortcode tags (`{{< … >}}`, `{{% … %}}`) are removed while the content between a
paired shortcode's tags stays, MkDocs admonitions (`!!! note "Title"` + indented body) are turned into
their title and dedented body, and the markup of MkDocs extensions that is not text goes: heading attribute
lists (`## Title { #id }`, `{#id}`, `{: .class }`), include directives (`{* ../src/app.py hl[3] *}`: the
included file is not part of the document), pymdownx block fences (`/// note | Title` ... `///`, kept
as their title) and GitHub alert markers (`> [!NOTE]`). The cleaned source is then parsed by markdown-it-py
and the block tokens become blocks whose text is the inline text (emphasis markers and link targets dropped).
"""

from __future__ import annotations

import html
import logging
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from groundwork.ingestion.errors import CorruptDocumentError
from groundwork.ingestion.parsers.text import DocumentBuilder, decode_text
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits

logger = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(
    r"\A(?P<fence>---|\+\+\+)[ \t]*\n(?P<body>.*?)(?:\n|^)(?P=fence)[ \t]*(?:\n|\Z)",
    re.DOTALL | re.MULTILINE,
)
_YAML_CLOSE_DOTS = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n\.\.\.[ \t]*(?:\n|\Z)", re.DOTALL)
_LOOKS_LIKE_KEY = re.compile(r"^\s*[\w\"'-]+\s*[:=]")

# `{{</* x */>}}` is Hugo's way to print a shortcode literally (in docs about shortcodes): keep it as text.
# `{{\< x >}}` (a stray Markdown escape) is still a shortcode.
_SHORTCODE = re.compile(
    r"\{\{\\?(?P<open>[<%])(?P<escaped>/\*)?(?P<body>.*?)(?(escaped)\*/)(?P<close>[>%])\}\}", re.DOTALL
)
_ADMONITION = re.compile(r"^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?)[ \t]*[\w-]+(?:[ \t]+\"(?P<title>[^\"]*)\")?[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_HEADING_ATTRIBUTES = re.compile(r"^(?P<heading>[ ]{0,3}#{1,6}[ \t].*?)(?:[ \t]*\{[ \t]*[#:.][^{}]*\})+[ \t]*#*[ \t]*$")
_ATTRIBUTE_LINE = re.compile(r"^[ \t]*\{:?[ \t]*[#.][^{}]*\}[ \t]*$|^[ \t]*\{:[^{}]*\}[ \t]*$")
_INCLUDE = re.compile(r"^[ \t]*\{\*.*?\*\}[ \t]*$")
_BLOCK_FENCE = re.compile(r"^(?P<indent>[ \t]*)/{3,}[ \t]*(?P<kind>[\w-]+)?[ \t]*(?:\|[ \t]*(?P<title>.*?))?[ \t]*$")
_ALERT = re.compile(r"^(?P<quote>[ \t]*>[ \t]*)\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*$", re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def _split_front_matter(source: str) -> tuple[dict[str, Any], str]:
    """Split off front matter; text that does not load as a mapping is kept as Markdown.

    A block whose lines look like `key: value` but is invalid YAML/TOML is still removed (it is
    front matter with a typo, not content); its metadata is ignored.
    """
    match = _FRONT_MATTER.match(source) or _YAML_CLOSE_DOTS.match(source)
    if match is None:
        return {}, source
    body = match.group("body")
    is_toml = source.startswith("+++")
    try:
        loaded: object = tomllib.loads(body) if is_toml else yaml.safe_load(body)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        first_line = next((line for line in body.splitlines() if line.strip()), "")
        if _LOOKS_LIKE_KEY.match(first_line):
            logger.warning("ignoring invalid front matter: %s", exc)
            return {}, source[match.end() :]
        return {}, source
    if loaded is None:
        return {}, source[match.end() :]
    if not isinstance(loaded, dict):
        return {}, source
    return {str(key): value for key, value in loaded.items()}, source[match.end() :]


def _replace_shortcode(match: re.Match[str]) -> str:
    if match.group("escaped"):
        return "{{" + match.group("open") + match.group("body") + match.group("close") + "}}"
    return "\n" * match.group(0).count("\n")


def _expand_admonitions(lines: Sequence[str]) -> list[str]:
    """Replace MkDocs admonitions with their title (as its own paragraph) and dedented body."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _ADMONITION.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent = match.group("indent").expandtabs(4)
        body_indent = len(indent) + 4
        if match.group("title"):
            out.extend([indent + match.group("title"), ""])
        i += 1
        body: list[str] = []
        while i < len(lines):
            line = lines[i].expandtabs(4)
            if line.strip() and len(line) - len(line.lstrip(" ")) < body_indent:
                break
            body.append(indent + line[body_indent:] if line.strip() else "")
            i += 1
        out.extend(_expand_admonitions(body))
    return out


def _strip_extension_markup(lines: Sequence[str]) -> list[str]:
    """Drop heading attributes, attribute lines, includes and `///` block fences (outside code fences)."""
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        opener = _FENCE.match(line)
        if opener is not None:
            fence = None if fence == opener.group(1) else (fence or opener.group(1))
        if fence is not None or opener is not None:
            out.append(line)
            continue
        heading = _HEADING_ATTRIBUTES.match(line)
        block = _BLOCK_FENCE.match(line)
        if heading is not None:
            out.append(heading.group("heading"))
        elif _ALERT.match(line):  # GitHub's `> [!NOTE]`: the quote stays, the marker goes
            out.append(line[: _ALERT.match(line).end("quote")].rstrip())  # type: ignore[union-attr]
        elif _ATTRIBUTE_LINE.match(line) or _INCLUDE.match(line):
            out.append("")
        elif block is not None:
            title = (block.group("title") or "").strip()
            keep = title and block.group("kind") not in ("tab", None)
            out.extend([block.group("indent") + title, ""] if keep else [""])
        else:
            out.append(line)
    return out


def _clean_source(source: str) -> str:
    source = _SHORTCODE.sub(_replace_shortcode, source)
    return "\n".join(_strip_extension_markup(_expand_admonitions(source.split("\n"))))


def _inline_text(token: Token) -> str:
    """The readable text of an inline token: text and code spans, links as their text, images as alt."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "text_special", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def _strip_html(content: str) -> str:
    text = _HTML_TAG.sub(" ", _HTML_COMMENT.sub("", content))
    lines = (" ".join(line.split()) for line in html.unescape(text).splitlines())
    return "\n".join(line for line in lines if line)


def _matching_close(tokens: Sequence[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def _render_list(tokens: Sequence[Token]) -> str:
    """Render a (nested) list as `- item` / `1. item` lines, indented two spaces per level."""
    lines: list[str] = []
    depth = 0
    marker: str | None = None
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "list_item_open":
            marker = f"{token.info}{token.markup} " if token.info else "- "
        elif token.type in ("inline", "fence", "code_block", "html_block"):
            if token.type == "inline":
                text = _inline_text(token)
            elif token.type == "html_block":
                text = _strip_html(token.content)
            else:
                text = token.content.rstrip("\n")
            if not text.strip():
                continue
            indent = "  " * max(depth - 1, 0)
            prefix = indent + (marker or "  ")
            continuation = " " * len(prefix)
            first, *rest = text.split("\n")
            lines.append(prefix + first)
            lines.extend(continuation + line if line.strip() else "" for line in rest)
            marker = None
    return "\n".join(lines)


def _render_table(tokens: Sequence[Token]) -> str:
    rows: list[str] = []
    cells: list[str] = []
    for token in tokens:
        if token.type == "tr_open":
            cells = []
        elif token.type == "inline":
            cells.append(" ".join(_inline_text(token).split()))
        elif token.type == "tr_close" and any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


class MarkdownParser:
    """Markdown, including Hugo (shortcodes, front matter) and MkDocs (admonitions) sources."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        metadata, source = _split_front_matter(decode_text(data))
        try:
            tokens = self._md.parse(_clean_source(source))
        except Exception as exc:  # markdown-it raises plain exceptions on pathological input
            raise CorruptDocumentError(f"{filename}: could not parse the Markdown: {exc}") from exc
        builder = DocumentBuilder()
        first_h1 = self._emit(tokens, builder)
        title = metadata.get("title")
        if isinstance(title, str):
            title = _SHORTCODE.sub(_replace_shortcode, title)
        return builder.build(
            title=title if isinstance(title, str) and title.strip() else first_h1,
            metadata=_plain_metadata(metadata),
        )

    def _emit(self, tokens: Sequence[Token], builder: DocumentBuilder) -> str | None:
        """Turn block tokens into blocks; returns the text of the first H1."""
        first_h1: str | None = None
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind == "heading_open":
                text = " ".join(_inline_text(tokens[index + 1]).split())
                builder.heading(int(token.tag[1:]), text)
                if token.tag == "h1" and first_h1 is None and text:
                    first_h1 = text
                index = _matching_close(tokens, index) + 1
            elif kind == "paragraph_open":
                builder.add("paragraph", _inline_text(tokens[index + 1]))
                index = _matching_close(tokens, index) + 1
            elif kind in ("fence", "code_block"):
                builder.add("code", token.content)
                index += 1
            elif kind in ("bullet_list_open", "ordered_list_open"):
                end = _matching_close(tokens, index)
                builder.add("list", _render_list(tokens[index : end + 1]))
                index = end + 1
            elif kind == "table_open":
                end = _matching_close(tokens, index)
                builder.add("table", _render_table(tokens[index : end + 1]))
                index = end + 1
            elif kind == "html_block":
                builder.add("paragraph", _strip_html(token.content))
                index += 1
            else:  # blockquote open/close, hr, …: their content is emitted by the cases above
                index += 1
        return first_h1


def _plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Front matter may hold dates and other YAML types; keep them, but as JSON-friendly values."""
    return {key: _plain(value) for key, value in metadata.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
