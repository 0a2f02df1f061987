"""Document types: names, file extensions and detection (shared by the upload checks and the parsers)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath

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

_ALIASES: Mapping[str, str] = {
    "text/x-markdown": MARKDOWN,
    "text/md": MARKDOWN,
    "application/xhtml+xml": HTML,
    "text/x-rst": PLAIN_TEXT,
    "application/x-pdf": PDF,
}


def normalise_mime_type(mime_type: str | None) -> str | None:
    """Lower-cased, parameters dropped, aliases mapped to the canonical name."""
    if not mime_type:
        return None
    base = mime_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base) or None


def extension_of(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def detect_mime_type(filename: str, data: bytes, declared: str | None = None) -> str:
    """A known extension wins, then magic bytes, then a specific declared type; UTF-8 text in a file
    without an extension is `text/plain`; anything else `application/octet-stream`."""
    by_extension = EXTENSIONS.get(extension_of(filename))
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
    normalised = normalise_mime_type(declared)
    if normalised and normalised != OCTET_STREAM:
        return normalised
    sample = data[:4096]
    if extension_of(filename) or b"\x00" in sample:  # an extension we don't know is not text
        return OCTET_STREAM
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 3:  # not merely a character cut at the sample's end
            return OCTET_STREAM
    return PLAIN_TEXT if data.strip() else OCTET_STREAM


_TEXT_TYPES = frozenset({MARKDOWN, PLAIN_TEXT, HTML})
_CONTROL_BYTES = frozenset(set(range(32)) - {9, 10, 12, 13}) | {127}
_BINARY_SAMPLE = 64 * 1024
_MAX_CONTROL_SHARE = 0.05


def content_problem(mime_type: str, data: bytes) -> str | None:
    """Why `data` is not a `mime_type` document (None if it may be): binary bytes under a text type (a NUL,
    or more than 5% control bytes, outside UTF-16). The extension never makes binary data text."""
    if mime_type in _TEXT_TYPES:
        sample = data[:_BINARY_SAMPLE]
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        if b"\x00" in sample:
            return "binary data (NUL bytes), not text"
        controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
        if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
            return f"binary data ({controls} control bytes in the first {len(sample)}), not text"
    return None  # PDFs and DOCX files that are not are found by their parsers (`corrupt_document`)
