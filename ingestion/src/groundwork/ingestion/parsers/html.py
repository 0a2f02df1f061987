"""HTML parser: the main content's headings, paragraphs, lists, code and tables.

Page chrome (`nav`, `header` unless it holds the page's `<h1>`, `footer`, `aside`, scripts, forms) is
dropped, and when the page marks its
main content (`<main>`, `<article>`, `role="main"`) only that is read. Text that sits directly in
containers such as `<div>` or `<td>`-free layouts (common in generated HTML like SEC filings) becomes
paragraphs too, so nothing visible is lost for want of a `<p>`.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, Comment, Tag, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, PageElement

from groundwork.ingestion.errors import CorruptDocumentError
from groundwork.ingestion.parsers.text import DocumentBuilder
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits

_DROPPED = ("script", "style", "nav", "header", "footer", "aside", "noscript", "form", "template", "svg")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LISTS = frozenset({"ul", "ol"})
_CONTAINERS = frozenset(
    {
        "html", "body", "main", "article", "section", "div", "blockquote", "figure", "figcaption", "dl",
        "dt", "dd", "center", "details", "summary", "address", "fieldset", "hgroup", "li",
    }
)  # fmt: skip
_BLOCKS = frozenset({"p", "pre", "table", "hr", *_HEADINGS, *_LISTS, *_CONTAINERS})
_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _has_block(tag: Tag) -> bool:
    return tag.find(_BLOCKS) is not None


def _inline_text(element: PageElement) -> str:
    """Text of inline content: whitespace collapsed, `<br>` kept as a line break."""
    if isinstance(element, Comment):
        return ""
    if isinstance(element, NavigableString):
        return _SPACE.sub(" ", str(element))
    if not isinstance(element, Tag):
        return ""
    if element.name == "br":
        return "\n"
    return "".join(_inline_text(child) for child in element.children)


def _clean_lines(text: str) -> str:
    return "\n".join(line for line in (_squash(part) for part in text.split("\n")) if line)


def _render_table(table: Tag) -> str:
    """One line per row, cells separated by ` | `; empty (spacer) cells are left out."""
    rows: list[str] = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue  # a nested table's row: rendered inside its cell's text
        cells = (_squash(cell.get_text(" ")) for cell in row.find_all(["td", "th"], recursive=False))
        line = " | ".join(cell for cell in cells if cell)
        if line:
            rows.append(line)
    if not rows:  # a table without rows (malformed markup): keep its text
        return _squash(table.get_text(" "))
    return "\n".join(rows)


class _Walker:
    def __init__(self, builder: DocumentBuilder) -> None:
        self.builder = builder
        self.first_h1: str | None = None

    def container(self, tag: Tag) -> None:
        """Walk a container's children; runs of inline content between blocks become paragraphs."""
        run: list[str] = []
        for child in tag.children:
            if isinstance(child, Tag) and (child.name in _BLOCKS or _has_block(child)):
                self._flush(run)
                self.block(child)
            else:
                run.append(_inline_text(child))
        self._flush(run)

    def _flush(self, run: list[str]) -> None:
        if run:
            self.builder.add("paragraph", _clean_lines("".join(run)))
            run.clear()

    def block(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            text = _squash(tag.get_text(" "))
            self.builder.heading(_HEADINGS[name], text)
            if name == "h1" and self.first_h1 is None and text:
                self.first_h1 = text
        elif name == "p" and not _has_block(tag):
            self.builder.add("paragraph", _clean_lines(_inline_text(tag)))
        elif name == "pre":
            self.builder.add("code", tag.get_text())
        elif name == "table":
            self.builder.add("table", _render_table(tag))
        elif name in _LISTS:
            lines: list[str] = []
            self._list(tag, 0, lines)
            self.builder.add("list", "\n".join(lines))
        elif name == "hr":
            return
        else:
            self.container(tag)

    def _list(self, tag: Tag, depth: int, lines: list[str]) -> None:
        """Render a list; a `<ul>` directly inside a list (invalid, but common) is a nested list."""
        ordered = tag.name == "ol"
        number = int(str(tag["start"])) if ordered and str(tag.get("start", "")).isdigit() else 1
        for item in tag.children:
            if not isinstance(item, Tag):
                continue
            if item.name in _LISTS:
                self._list(item, depth + 1, lines)
                continue
            nested = [child for child in item.children if isinstance(child, Tag) and child.name in _LISTS]
            nested_ids = {id(child) for child in nested}
            own = "".join(_inline_text(child) for child in item.children if id(child) not in nested_ids)
            marker = f"{number}. " if ordered else "- "
            text = " ".join(_clean_lines(own).split("\n"))
            if text:
                lines.append("  " * depth + marker + text)
                number += 1
            for sub in nested:
                self._list(sub, depth + 1, lines)


def _content_root(soup: BeautifulSoup) -> Tag:
    for candidate in (soup.find("main"), soup.find(True, attrs={"role": "main"}), soup.find("article")):
        if isinstance(candidate, Tag) and candidate.get_text(strip=True):
            return candidate
    body = soup.find("body")
    return body if isinstance(body, Tag) else soup


class HtmlParser:
    """HTML pages: main content only, headings give the heading path, tables rendered row per line."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        try:
            with warnings.catch_warnings():
                # XHTML pages (SEC filings) trigger it; lxml's HTML parser reads them well.
                warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
                soup = BeautifulSoup(data, "lxml")
        except Exception as exc:  # lxml/bs4 raise assorted errors on undecodable input
            raise CorruptDocumentError(f"{filename}: could not parse the HTML: {exc}") from exc
        title_tag = soup.find("title")
        title = _squash(title_tag.get_text(" ")) if isinstance(title_tag, Tag) else ""
        for tag in soup.find_all(_DROPPED):
            if tag.name == "header" and tag.find("h1") is not None:
                continue  # an article's title bar (Wikipedia, blogs): content, not page chrome
            tag.decompose()
        for comment in soup.find_all(string=lambda node: isinstance(node, Comment)):
            comment.extract()
        builder = DocumentBuilder()
        walker = _Walker(builder)
        root = _content_root(soup)
        if root.name in _BLOCKS and root.name not in _CONTAINERS:
            walker.block(root)
        else:
            walker.container(root)
        return builder.build(title=title or walker.first_h1)
