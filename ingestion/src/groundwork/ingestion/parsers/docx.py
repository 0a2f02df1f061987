"""DOCX parser: body paragraphs and tables in document order.

Headings come from paragraph styles ("Title", "Heading N", or a custom style based on one of them);
numbered or bulleted paragraphs are grouped into list blocks; tables become one line per row with
` | ` between cells. Headers, footers, comments and text boxes are not part of the body and are skipped.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from groundwork.ingestion.errors import CorruptDocumentError, ParseError
from groundwork.ingestion.parsers.archive import check_zip_expansion
from groundwork.ingestion.parsers.text import DocumentBuilder
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_BULLET_FORMATS = frozenset({"bullet", "none"})


def _paragraph_text(paragraph: Paragraph) -> str:
    """The paragraph's text; equations (OMML), which `Paragraph.text` leaves out, are kept as their
    linear text (`A=πr2`), in place."""
    element: Any = paragraph._p
    if element.find(f".//{_M}oMath") is None:
        return paragraph.text
    parts: list[str] = []
    for node in element.iter(f"{_W}t", f"{_M}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if node.tag in (f"{_W}t", f"{_M}t"):
            parts.append(node.text or "")
        else:
            parts.append("\t" if node.tag == f"{_W}tab" else "\n")
    return "".join(parts)


def _heading_level(paragraph: Paragraph) -> int | None:
    """0 for a Title, N for "Heading N", following `based on` links of custom styles; None otherwise."""
    style: Any = paragraph.style
    for _ in range(5):  # custom heading styles are based on a built-in one a few levels up at most
        if style is None:
            return None
        name = str(style.name or "")
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def _numbering(paragraph: Paragraph) -> tuple[int, str] | None:
    """(indent level, numId) when the paragraph is a list item, else None."""
    p_pr = paragraph._p.pPr
    num_pr: Any = p_pr.numPr if p_pr is not None else None
    if num_pr is not None and num_pr.numId is not None and num_pr.numId.val != 0:
        level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        return int(level), str(num_pr.numId.val)
    style_name = str(paragraph.style.name or "") if paragraph.style is not None else ""
    if style_name.lower().startswith("list"):
        return 0, ""
    return None


class _ListFormats:
    """Whether a list level is numbered or bulleted, read from the numbering part (cached)."""

    def __init__(self, document: DocxDocument) -> None:
        self._document = document
        self._cache: dict[tuple[str, int], bool] = {}

    def is_ordered(self, num_id: str, level: int) -> bool:
        key = (num_id, level)
        if key not in self._cache:
            self._cache[key] = self._lookup(num_id, level)
        return self._cache[key]

    def _lookup(self, num_id: str, level: int) -> bool:
        if not num_id:
            return False
        try:
            numbering = self._document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return False
        abstract_ids = numbering.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
        if not abstract_ids:
            return False
        formats = numbering.xpath(
            f'./w:abstractNum[@w:abstractNumId="{abstract_ids[0]}"]/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val'
        )
        return bool(formats) and str(formats[0]) not in _BULLET_FORMATS


def _cell_text(cell: Any) -> str:
    parts = [_paragraph_text(paragraph) for paragraph in cell.paragraphs]
    parts.extend(_render_table(table).replace("\n", "; ") for table in cell.tables)
    return " ".join(" ".join(parts).split())


def _render_table(table: Table) -> str:
    """One line per row; a merged cell (python-docx repeats it for each grid column) is written once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        previous: object = None
        for cell in row.cells:
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(_cell_text(cell))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


class DocxParser:
    """Word documents (.docx)."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        check_zip_expansion(data, limits.max_decompressed_bytes, filename)
        try:
            document = docx.Document(io.BytesIO(data))
            return self._parse(document)
        except ParseError:
            raise
        except (PackageNotFoundError, zipfile.BadZipFile) as exc:
            raise CorruptDocumentError(f"{filename}: not a readable Word (.docx) file: {exc}") from exc
        except Exception as exc:  # python-docx/lxml raise KeyError, ValueError, XMLSyntaxError… on bad parts
            raise CorruptDocumentError(f"{filename}: the Word document is damaged: {exc}") from exc

    def _parse(self, document: DocxDocument) -> ParsedDocument:
        builder = DocumentBuilder()
        formats = _ListFormats(document)
        list_lines: list[str] = []
        counters: dict[tuple[str, int], int] = {}
        title_paragraph: str | None = None

        def flush_list() -> None:
            if list_lines:
                builder.add("list", "\n".join(list_lines))
                list_lines.clear()

        for item in document.iter_inner_content():
            if isinstance(item, Table):
                flush_list()
                builder.add("table", _render_table(item))
                continue
            text = _paragraph_text(item).strip()
            if not text:
                continue
            level = _heading_level(item)
            numbering = _numbering(item) if level is None else None
            if numbering is None:
                flush_list()
                if level is None:
                    builder.add("paragraph", text)
                else:
                    builder.heading(level, text)
                    if level == 0 and title_paragraph is None:
                        title_paragraph = text
                continue
            depth, num_id = numbering
            for key in [key for key in counters if key[0] == num_id and key[1] > depth]:
                del counters[key]  # a new parent item restarts the numbering of its sub-list
            if formats.is_ordered(num_id, depth):
                key = (num_id, depth)
                counters[key] = counters.get(key, 0) + 1
                marker = f"{counters[key]}. "
            else:
                marker = "- "
            list_lines.append("  " * depth + marker + " ".join(text.split()))
        flush_list()
        core_title = (document.core_properties.title or "").strip()
        return builder.build(title=core_title or title_paragraph)
