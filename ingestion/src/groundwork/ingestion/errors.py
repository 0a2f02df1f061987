"""Errors of the ingestion area. Each carries a stable `code` recorded as a document's failure reason."""

from __future__ import annotations


class IngestionError(Exception):
    """Base class of every ingestion error."""

    code = "ingestion_failed"


class ParseError(IngestionError):
    """A document could not be turned into text; the document fails, the batch goes on."""

    code = "parse_failed"


class UnsupportedFormatError(ParseError):
    code = "unsupported_format"


class EncryptedDocumentError(ParseError):
    code = "encrypted_document"


class NoTextLayerError(ParseError):
    """A scanned PDF (images only). OCR is not part of the pipeline."""

    code = "no_text_layer"


class TooManyPagesError(ParseError):
    code = "too_many_pages"


class ParseTimeoutError(ParseError):
    code = "parse_timeout"


class CorruptDocumentError(ParseError):
    code = "corrupt_document"


class EmptyDocumentError(ParseError):
    code = "empty_document"


class DocumentTooLargeError(ParseError):
    """Over a per-document limit: extracted characters, chunks, decompressed bytes or parser memory."""

    code = "document_too_large"


class UnsupportedContentError(ParseError):
    """The bytes are not what the type says (binary data named `.md`, a `.pdf` without a PDF signature)."""

    code = "unsupported_content"


class ParserCrashedError(ParseError):
    """The parser process died on the document (a crash in a native library)."""

    code = "parser_crashed"


class DocumentCancelledError(IngestionError):
    """The document was deleted while it was being processed; nothing is recorded for it."""

    code = "cancelled"
