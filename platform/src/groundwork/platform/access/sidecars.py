"""ACLs from sidecar files in a source (a folder or a `gs://` prefix).

- `<file>.acl.json` next to a document sets that document's ACL.
- `.acl.json` in a folder sets the ACL of every document below it that has no sidecar of its own; the nearest
  folder wins.
The format is the API's: `{"users": [...], "groups": [...], "tenant": false}`, or `"tenant"` / `"private"`.
Sidecars are never ingested as documents. A sidecar that cannot be read or parsed makes its documents fail
closed: they are refused (reported), never ingested with some other ACL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from groundwork.platform.access.acl import DocumentAcl
from groundwork.platform.errors import InvalidRequestError

SIDECAR_SUFFIX = ".acl.json"
FOLDER_SIDECAR = ".acl.json"


def is_sidecar(relative: str) -> bool:
    return relative.rsplit("/", 1)[-1].endswith(SIDECAR_SUFFIX)


def candidates(relative: str) -> list[str]:
    """Sidecars that could hold the ACL of the document at `relative`, nearest first."""
    parts = relative.split("/")
    found = [relative + SIDECAR_SUFFIX]
    for depth in range(len(parts) - 1, -1, -1):
        folder = "/".join(parts[:depth])
        found.append(f"{folder}/{FOLDER_SIDECAR}" if folder else FOLDER_SIDECAR)
    return found


class SidecarAcls:
    """Resolves documents' ACLs from the sidecars a source lists; each sidecar is read and parsed once."""

    def __init__(self, relatives: Iterable[str], read: Callable[[str], bytes | None]) -> None:
        self._present = {r for r in relatives if is_sidecar(r)}
        self._read = read
        self._parsed: dict[str, DocumentAcl | InvalidRequestError] = {}

    def acl_for(self, relative: str) -> DocumentAcl | None:
        """The document's ACL from the nearest sidecar; None when no sidecar applies. Raises
        `InvalidRequestError` when the applicable sidecar is unreadable or malformed."""
        for candidate in candidates(relative):
            if candidate not in self._present:
                continue
            if candidate not in self._parsed:
                self._parsed[candidate] = self._parse(candidate)
            parsed = self._parsed[candidate]
            if isinstance(parsed, InvalidRequestError):
                raise parsed
            return parsed
        return None

    def _parse(self, relative: str) -> DocumentAcl | InvalidRequestError:
        data = self._read(relative)
        if data is None:
            return InvalidRequestError(f"ACL sidecar {relative} disappeared while syncing")
        try:
            return DocumentAcl.parse(json.loads(data), where=relative)
        except ValueError as exc:
            return InvalidRequestError(f"ACL sidecar {relative} is not valid JSON: {exc}")
        except InvalidRequestError as exc:
            return exc
