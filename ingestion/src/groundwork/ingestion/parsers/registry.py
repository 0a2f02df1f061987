"""Which parser reads which format, and the one entry point the pipeline calls: `parse_document`."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from groundwork.ingestion.errors import EmptyDocumentError, UnsupportedContentError, UnsupportedFormatError
from groundwork.ingestion.parsers.docx import DocxParser
from groundwork.ingestion.parsers.html import HtmlParser
from groundwork.ingestion.parsers.invisible import without_invisible
from groundwork.ingestion.parsers.markdown import MarkdownParser
from groundwork.ingestion.parsers.pdf import PdfParser
from groundwork.ingestion.parsers.text import TextParser
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits, Parser
from groundwork.platform.mime import (
    DOCX,
    EXTENSIONS,
    HTML,
    MARKDOWN,
    OCTET_STREAM,
    PDF,
    PLAIN_TEXT,
    SUPPORTED_MIME_TYPES,
    content_problem,
    detect_mime_type,
    extension_of,
    normalise_mime_type,
)

__all__ = ["SUPPORTED_MIME_TYPES", "ParserRegistry", "default_registry", "detect_mime_type", "parse_document"]


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
        normalised = normalise_mime_type(mime_type)
        if normalised in self._parsers:
            return self._parsers[normalised]
        by_extension = self._extensions.get(extension_of(filename))
        if by_extension in self._parsers:
            return self._parsers[by_extension]
        described = f"type {mime_type!r}" if mime_type else f"extension {extension_of(filename) or '(none)'!r}"
        extensions = sorted(ext for ext, mime in self._extensions.items() if mime in self._parsers)
        raise UnsupportedFormatError(
            f"{filename}: unsupported format ({described}); supported: "
            f"{', '.join(self.supported_mime_types)} (extensions {', '.join(extensions)})"
        )

    def parse(self, data: bytes, *, filename: str, mime_type: str | None, limits: ParseLimits) -> ParsedDocument:
        """Parse with the matching parser; a document without any text fails with `EmptyDocumentError`."""
        if mime_type is None or normalise_mime_type(mime_type) == OCTET_STREAM:
            detected = detect_mime_type(filename, data)
            mime_type = detected if detected != OCTET_STREAM else mime_type
        parser = self.parser_for(filename, mime_type)
        kind = next((mime for mime, known in self._parsers.items() if known is parser), None)
        problem = content_problem(kind, data) if kind else None
        if problem is not None:
            raise UnsupportedContentError(f"{filename}: {problem}")
        if not data.strip():
            raise EmptyDocumentError(f"{filename}: the file is empty")
        document = without_invisible(parser.parse(data, filename=filename, limits=limits))
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
    return default_registry().parse(data, filename=filename, mime_type=mime_type, limits=limits or ParseLimits())
