"""Bounded reading of zip packages (DOCX): a zip bomb fails before any parser expands it."""

from __future__ import annotations

import io
import zipfile

from groundwork.ingestion.errors import CorruptDocumentError, DocumentTooLargeError

_PIECE = 1024 * 1024


def check_zip_expansion(data: bytes, limit: int, filename: str) -> None:
    """Raise `DocumentTooLargeError` if the members of the zip in `data` expand to more than `limit` bytes.

    The sizes the zip declares are checked first (cheap), then every member is decompressed piece by piece
    and counted, so a zip whose headers lie is caught too; at most `limit` bytes are ever expanded, and never
    more than one piece is held in memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            declared = sum(member.file_size for member in members)
            if declared > limit:
                raise _too_large(filename, declared, limit)
            expanded = 0
            for member in members:
                with archive.open(member) as stream:
                    while piece := stream.read(_PIECE):
                        expanded += len(piece)
                        if expanded > limit:
                            raise _too_large(filename, expanded, limit)
    except DocumentTooLargeError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise CorruptDocumentError(f"{filename}: not a readable zip package: {exc}") from exc


def _too_large(filename: str, size: int, limit: int) -> DocumentTooLargeError:
    return DocumentTooLargeError(
        f"{filename}: its parts expand to {size}+ bytes, more than the limit of {limit} bytes "
        "(ingestion.max_decompressed_bytes)"
    )
