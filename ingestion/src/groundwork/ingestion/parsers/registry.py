"""Which parser reads which format, and the one entry point the pipeline calls: `parse_document`."""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath

from groundwork.ingestion.errors import EmptyDocumentError, UnsupportedFormatError
from groundwork.ingestion.parsers.docx import DocxParser
from groundwork.ingestion.parsers.html import HtmlParser
from groundwork.ingestion.parsers.markdown import MarkdownParser
from groundwork.ingestion.parsers.pdf import PdfParser
from groundwork.ingestion.parsers.text import TextParser
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits, Parser

MARKDOWN = "text/markdown"
PLAIN_TEXT = "text/plain"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OCTET_STREAM = "application/octet-stream"

SUPPORTED_MIME_TYPES: tuple[str, ...] = (MARKDOWN, PLAIN_TEXT, HTML, PDF, DOCX)

EXTENSIONS: Mapping[str, str] = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".mdown": MARKDOWN,
    ".mkd": MARKDOWN,
    ".txt": PLAIN_TEXT,
    ".text": PLAIN_TEXT,
    ".rst": PLAIN_TEXT,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".pdf": PDF,
    ".docx": DOCX,
}

_MIME_ALIASES: Mapping[str, str] = {
    "text/x-markdown": MARKDOWN,
    "text/md": MARKDOWN,
    "application/xhtml+xml": HTML,
    "text/x-rst": PLAIN_TEXT,
    "application/x-pdf": PDF,
}


def _normalise_mime(mime_type: str | None) -> str | None:
    if not mime_type:
        return None
    base = mime_type.split(";", 1)[0].strip().lower()
    return _MIME_ALIASES.get(base, base) or None


def _extension(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def detect_mime_type(filename: str, data: bytes) -> str:
    """The MIME type from the file extension, else sniffed from the content.

    Returns `application/octet-stream` when neither tells.
    """
    by_extension = EXTENSIONS.get(_extension(filename))
    if by_extension is not None:
        return by_extension
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        return PDF
    if head.startswith(b"PK") and _is_docx(data):
        return DOCX
    lowered = head.lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return HTML
    return OCTET_STREAM


class ParserRegistry:
    """Maps MIME types (and, through `EXTENSIONS`, file extensions) to parsers."""

    def __init__(self, parsers: Mapping[str, Parser], extensions: Mapping[str, str] = EXTENSIONS) -> None:
        self._parsers = dict(parsers)
        self._extensions = dict(extensions)

    @classmethod
    def default(cls) -> ParserRegistry:
        return cls(
            {
                MARKDOWN: MarkdownParser(),
                PLAIN_TEXT: TextParser(),
                HTML: HtmlParser(),
                PDF: PdfParser(),
                DOCX: DocxParser(),
            }
        )

    @property
    def supported_mime_types(self) -> tuple[str, ...]:
        return tuple(self._parsers)

    def parser_for(self, filename: str, mime_type: str | None) -> Parser:
        """The parser for a declared MIME type, else for the file's extension.

        A generic or unknown declared type (browsers and object stores often send
        `application/octet-stream`) falls back to the extension.
        """
        normalised = _normalise_mime(mime_type)
        if normalised in self._parsers:
            return self._parsers[normalised]
        by_extension = self._extensions.get(_extension(filename))
        if by_extension in self._parsers:
            return self._parsers[by_extension]
        described = f"type {mime_type!r}" if mime_type else f"extension {_extension(filename) or '(none)'!r}"
        extensions = sorted(ext for ext, mime in self._extensions.items() if mime in self._parsers)
        raise UnsupportedFormatError(
            f"{filename}: unsupported format ({described}); supported: "
            f"{', '.join(self.supported_mime_types)} (extensions {', '.join(extensions)})"
        )

    def parse(
        self, data: bytes, *, filename: str, mime_type: str | None, limits: ParseLimits
    ) -> ParsedDocument:
        """Parse with the matching parser; a document without any text fails with `EmptyDocumentError`."""
        if mime_type is None or _normalise_mime(mime_type) == OCTET_STREAM:
            detected = detect_mime_type(filename, data)
            mime_type = detected if detected != OCTET_STREAM else mime_type
        parser = self.parser_for(filename, mime_type)
        if not data.strip():
            raise EmptyDocumentError(f"{filename}: the file is empty")
        document = parser.parse(data, filename=filename, limits=limits)
        if not document.text.strip():
            raise EmptyDocumentError(f"{filename}: no text could be extracted")
        return document


@functools.cache
def default_registry() -> ParserRegistry:
    """The registry of the built-in parsers, created on first use."""
    return ParserRegistry.default()


def parse_document(
    data: bytes, *, filename: str, mime_type: str | None = None, limits: ParseLimits | None = None
) -> ParsedDocument:
    """Parse a document of any supported format (see `SUPPORTED_MIME_TYPES`)."""
    return default_registry().parse(
        data, filename=filename, mime_type=mime_type, limits=limits or ParseLimits()
    )
