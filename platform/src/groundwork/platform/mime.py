"""Document type detection from the file name, then from the leading bytes."""

from __future__ import annotations

from pathlib import PurePosixPath

MARKDOWN = "text/markdown"
PLAIN = "text/plain"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

EXTENSIONS = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".mdx": MARKDOWN,
    ".txt": PLAIN,
    ".text": PLAIN,
    ".rst": PLAIN,
    ".html": HTML,
    ".htm": HTML,
    ".pdf": PDF,
    ".docx": DOCX,
}


def detect_mime_type(filename: str, data: bytes, declared: str | None = None) -> str:
    """The document's MIME type: a known extension wins, then magic bytes, then the declared type."""
    by_extension = EXTENSIONS.get(PurePosixPath(filename).suffix.lower())
    if by_extension:
        return by_extension
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return PDF
    if head.startswith(b"pk\x03\x04") and b"word/" in data[:65536]:
        return DOCX
    if head.startswith((b"<!doctype html", b"<html")):
        return HTML
    if declared and declared != "application/octet-stream":
        return declared.split(";")[0].strip()
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return PLAIN
