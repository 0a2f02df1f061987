"""The manifest of a published model: `groundwork-model.json`, the file `groundwork.serving.models` already
writes next to a converted model, with the same `version`, `source_sha256` and `files` (path -> sha256, size),
so `serving.models.verify_manifest` accepts a pulled directory as it is. Added here: each file's MD5 (what
Cloud Storage reports for an object, so a published copy can be checked without downloading it), `revision`
and `checksum`.

`checksum` is the model's identity: the SHA-256 of the lines `<path>\\t<sha256>\\t<size>\\n` of every file,
sorted by path. Two directories with the same files have the same checksum wherever they are.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from groundwork.platform.modelstore.errors import (
    ChecksumMismatchError,
    InvalidModelDirectoryError,
    ManifestError,
)
from groundwork.serving.models import MANIFEST_NAME, MANIFEST_VERSION

__all__ = ["MANIFEST_NAME", "FileDigest", "ModelManifest", "build_manifest", "check_file", "hash_file"]


@dataclass(frozen=True, slots=True)
class FileDigest:
    """One file of a model."""

    path: str
    """Relative POSIX path inside the model directory."""
    size: int
    sha256: str
    """Hex SHA-256 of the content."""
    md5: str
    """Base64 MD5 of the content (Cloud Storage's `md5Hash` format)."""


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """What a model directory holds, file by file."""

    files: tuple[FileDigest, ...]
    revision: str
    """A label chosen by the publisher (a release name, an upstream commit); default: `checksum[:12]`."""
    source_uri: str
    """Where the model was published (`gs://...`)."""
    created_at: str
    """ISO 8601 UTC time of publishing."""

    @property
    def checksum(self) -> str:
        lines = "".join(f"{f.path}\t{f.sha256}\t{f.size}\n" for f in sorted(self.files, key=lambda f: f.path))
        return hashlib.sha256(lines.encode()).hexdigest()

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def file(self, path: str) -> FileDigest | None:
        return next((f for f in self.files if f.path == path), None)

    def to_json(self) -> bytes:
        document = {
            "version": MANIFEST_VERSION,
            "source_uri": self.source_uri,
            "source_sha256": self.checksum,
            "checksum": self.checksum,
            "revision": self.revision,
            "created_at": self.created_at,
            "files": {f.path: {"sha256": f.sha256, "size": f.size, "md5": f.md5} for f in self.files},
        }
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, where: str) -> ModelManifest:
        """Parse and check a manifest; `where` names it in errors. The recorded checksum must match the files."""
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise ManifestError(f"{where}: not JSON ({exc})") from exc
        if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION:
            raise ManifestError(f"{where}: not a version {MANIFEST_VERSION} model manifest")
        files = document.get("files")
        if not isinstance(files, dict) or not files:
            raise ManifestError(f"{where}: no files listed")
        digests = tuple(_digest(path, entry, where) for path, entry in sorted(files.items()))
        manifest = cls(
            files=digests,
            revision=str(document.get("revision") or ""),
            source_uri=str(document.get("source_uri") or ""),
            created_at=str(document.get("created_at") or ""),
        )
        if document.get("checksum") != manifest.checksum:
            raise ManifestError(f"{where}: the recorded checksum does not match the files it lists")
        return manifest


def _digest(path: str, entry: Any, where: str) -> FileDigest:
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{where}: entry {path!r} is not an object")
    size, sha256, md5 = entry.get("size"), entry.get("sha256"), entry.get("md5")
    if not isinstance(size, int) or not isinstance(sha256, str) or not isinstance(md5, str):
        raise ManifestError(f"{where}: entry {path!r} needs an integer size and sha256 and md5 strings")
    if path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        raise ManifestError(f"{where}: {path!r} is not a relative path inside the model")
    return FileDigest(path=path, size=size, sha256=sha256, md5=md5)


def hash_file(path: Path, chunk_size: int = 1 << 20) -> tuple[str, str, int]:
    """(hex SHA-256, base64 MD5, size) of a file, read once."""
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return sha256.hexdigest(), base64.b64encode(md5.digest()).decode(), size


def build_manifest(directory: Path, *, source_uri: str, revision: str | None = None) -> ModelManifest:
    """Hash every file of a Hugging Face safetensors directory (what vLLM's `runai_streamer` loads)."""
    if not directory.is_dir():
        raise InvalidModelDirectoryError(f"{directory} is not a directory")
    paths = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    relative = [p.relative_to(directory).as_posix() for p in paths]
    if "config.json" not in relative:
        raise InvalidModelDirectoryError(f"{directory} has no config.json (not a Hugging Face model directory)")
    if not any(name.endswith(".safetensors") for name in relative):
        raise InvalidModelDirectoryError(
            f"{directory} has no .safetensors file; vLLM streams weights from Cloud Storage only in that format"
        )
    files = []
    for path, name in zip(paths, relative, strict=True):
        sha256, md5, size = hash_file(path)
        files.append(FileDigest(path=name, size=size, sha256=sha256, md5=md5))
    draft = ModelManifest(files=tuple(files), revision="", source_uri=source_uri, created_at=_now())
    return ModelManifest(
        files=draft.files, revision=revision or draft.checksum[:12], source_uri=source_uri, created_at=draft.created_at
    )


def check_file(path: Path, expected: FileDigest, *, where: str) -> None:
    """Raise `ChecksumMismatchError` unless `path` has the size and SHA-256 the manifest lists."""
    sha256, _, size = hash_file(path)
    if size != expected.size:
        raise ChecksumMismatchError(
            f"{where}: {size} bytes where the manifest lists {expected.size}; the copy is truncated or was changed"
        )
    if sha256 != expected.sha256:
        raise ChecksumMismatchError(
            f"{where}: SHA-256 {sha256} does not match the manifest's {expected.sha256}; the object is corrupt "
            "or was replaced after publishing"
        )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
