"""PDF parser: the text layer of each page, split into paragraphs by line heuristics.

pypdf returns a page's text as lines without paragraph marks, so paragraphs are rebuilt: a paragraph ends
at a blank line, after a line clearly shorter than the page's usual line (the last line of a paragraph,
or a heading), or before a bullet. Lines of one paragraph are joined with spaces, and words hyphenated
across lines are joined again. Text is NFKC-normalised so ligatures (`ﬁ`) read as plain letters, and
runs of unmapped glyph names (`/g40/g81…`, from fonts without a Unicode map) are dropped.

Scanned PDFs have no text layer; OCR is not part of the pipeline, so they fail with `NoTextLayerError`.
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError

from groundwork.ingestion.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EncryptedDocumentError,
    NoTextLayerError,
    ParseError,
    ParseTimeoutError,
    TooManyPagesError,
)
from groundwork.ingestion.parsers.text import DocumentBuilder
from groundwork.ingestion.parsers.types import ParsedDocument, ParseLimits

logger = logging.getLogger(__name__)

_BULLET = re.compile(r"^(?:[•●▪■◦○◆►‣∙·*–-]\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)")
_UNMAPPED_GLYPHS = re.compile(r"(?:/g\d+\s?){2,}")
"""Runs like `/g40/g81/g75`: glyph names pypdf emits for a font without a Unicode map; unreadable."""
_SHORT_LINE_RATIO = 0.7
"""A line shorter than this fraction of the page's usual line length ends its paragraph."""


def _usual_length(lines: list[str]) -> int:
    """The length of a full line on this page: the 80th percentile, robust to headings and short lines."""
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return 0
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.8))]


def _join(previous: str, line: str) -> str:
    if previous.endswith("-") and len(previous) > 1 and previous[-2].isalpha():
        if line[:1].islower():
            return previous[:-1] + line  # "retrie-" + "val"
        return previous + line  # "Lucene-" + "BM25"
    if len(previous) == 1 and previous.isupper() and line[:1].islower():
        return previous + line  # a drop cap: "T" + "he nut is…"
    return previous + " " + line


def page_paragraphs(text: str) -> list[str]:
    """Split one page's extracted text into paragraphs (see the module docstring for the heuristics)."""
    text = _UNMAPPED_GLYPHS.sub(" ", unicodedata.normalize("NFKC", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    usual = _usual_length(lines)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        is_short = len(line) < usual * _SHORT_LINE_RATIO
        starts_block = _BULLET.match(line) is not None or (
            is_short and line[:1].isupper() and current.endswith((".", ":", "?", "!"))
        )  # a bullet, or a short capitalised line after a full sentence: a heading or caption
        if current and starts_block:
            paragraphs.append(current)
            current = ""
        current = _join(current, line) if current else line
        is_drop_cap = len(line) == 1 and line.isupper()
        if is_short and not is_drop_cap and not line.endswith("-"):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _open(data: bytes, filename: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Many PDFs are "encrypted" only to restrict copying/printing: they open with an empty password.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise EncryptedDocumentError(f"{filename}: the PDF is password-protected")
        return reader
    except ParseError:
        raise
    except DependencyError as exc:
        raise EncryptedDocumentError(
            f"{filename}: the PDF is encrypted with AES, which needs the 'cryptography' package to read"
        ) from exc
    except FileNotDecryptedError as exc:
        raise EncryptedDocumentError(f"{filename}: the PDF is password-protected") from exc
    except Exception as exc:  # pypdf raises many error types (PdfReadError, ValueError, KeyError…) on bad files
        raise CorruptDocumentError(f"{filename}: not a readable PDF: {exc}") from exc


class PdfParser:
    """PDFs with a text layer; page numbers are kept on the blocks."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        started = time.monotonic()
        reader = _open(data, filename)
        try:
            page_count = len(reader.pages)
        except (PdfReadError, DependencyError, FileNotDecryptedError) as exc:
            raise CorruptDocumentError(f"{filename}: the PDF's page tree is unreadable: {exc}") from exc
        if page_count > limits.max_pages:
            raise TooManyPagesError(f"{filename}: {page_count} pages, more than the limit of {limits.max_pages} pages")
        builder = DocumentBuilder()
        for number in range(1, page_count + 1):
            elapsed = time.monotonic() - started
            if elapsed > limits.timeout_seconds:
                raise ParseTimeoutError(
                    f"{filename}: parsing took longer than {limits.timeout_seconds:g} s "
                    f"(stopped at page {number} of {page_count})"
                )
            for paragraph in page_paragraphs(self._page_text(reader, number, filename)):
                builder.add("paragraph", paragraph, page=number)
        if not builder.blocks:
            raise NoTextLayerError(f"{filename}: no page has a text layer (a scanned document?); OCR is not supported")
        return builder.build(title=self._title(reader), page_count=page_count)

    @staticmethod
    def _page_text(reader: PdfReader, number: int, filename: str) -> str:
        try:
            return reader.pages[number - 1].extract_text() or ""
        except LimitReachedError as exc:  # a decompression bomb stream: pypdf stops expanding it
            raise DocumentTooLargeError(f"{filename}: page {number} expands past pypdf's stream limit: {exc}") from exc
        except DependencyError as exc:  # AES-encrypted streams are only decrypted when read
            raise EncryptedDocumentError(
                f"{filename}: the PDF is encrypted with AES, which needs the 'cryptography' package to read"
            ) from exc
        except Exception as exc:  # a broken content stream: pypdf raises assorted error types
            raise CorruptDocumentError(f"{filename}: page {number} cannot be read: {exc}") from exc

    @staticmethod
    def _title(reader: PdfReader) -> str | None:
        try:
            metadata = reader.metadata
            title = metadata.title if metadata is not None else None
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
            # metadata is optional: a broken info dictionary must not fail the document
            logger.debug("unreadable PDF metadata", exc_info=True)
            return None
        return title.strip() if isinstance(title, str) and title.strip() else None
