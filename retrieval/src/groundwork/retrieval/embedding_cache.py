"""The locally made, optimised copy of an embedding model (ONNX, int8 ONNX, OpenVINO IR).

Made once from the model's own weights (the packaged all-MiniLM-L6-v2 by default), never downloaded, into
`<cache_dir>/<model name>-<sha256[:12] of the weights and config>-<format>/` with a checksum manifest: the
same discipline as the GGUF -> safetensors conversion in `groundwork.serving.models` (re-implemented here,
because retrieval is a leaf package). Concurrent preparations (an API server and a CLI command) are
serialised by a lock file; the directory appears atomically by rename, complete with its manifest, and one
whose files do not match their manifest (corrupt, or half-written by a killed process) is made again.

The export runs in a child process (`python -m groundwork.retrieval.embedding_export`): torch is needed to
read the weights, and the serving process, which then runs ONNX Runtime or OpenVINO, never loads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from groundwork.retrieval.errors import RetrievalError

logger = logging.getLogger(__name__)

MANIFEST_NAME = "groundwork-embedding-manifest.json"
FORMAT_VERSION = 1
"""Bumped when the export changes, so caches made by an older exporter are made again."""
EXPORT_FORMATS = ("onnx-fp32", "onnx-int8", "openvino")
SOURCE_FILES = ("config.json", "model.safetensors", "tokenizer.json")
GRAPH_FILE = {"onnx-fp32": "model.onnx", "onnx-int8": "model.onnx", "openvino": "model.xml"}


class EmbeddingCacheError(RetrievalError):
    """The optimised embedding model could not be made."""


def export_format(backend: str, precision: str) -> str:
    """The cached artefact a backend and precision run: OpenVINO applies bf16 when it compiles the IR."""
    if backend == "onnx":
        return f"onnx-{precision}"
    return "openvino"


_HASHED: dict[tuple[str, int, int], str] = {}
"""Digests already computed by this process, by (path, size, mtime): a file is hashed once per process
unless it changes (build_services runs many times in one test session)."""


def source_digest(model_dir: Path) -> str:
    """SHA-256 over the files that determine the vectors (weights, config, tokenizer)."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        path = model_dir / name
        if not path.is_file():
            raise EmbeddingCacheError(f"embedding model directory {model_dir} has no {name}")
        digest.update(name.encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def prepare_embedding_model(
    model_dir: Path,
    cache_dir: Path,
    fmt: str,
    *,
    progress: Callable[[str], None] | None = None,
    timeout_s: float = 900.0,
) -> Path:
    """The path of the graph file (`model.onnx` or `model.xml`) of `model_dir` in format `fmt`, made once."""
    if fmt not in EXPORT_FORMATS:
        raise EmbeddingCacheError(f"unknown embedding export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    digest = source_digest(model_dir)
    target = cache_dir.expanduser() / f"{model_dir.name}-{digest[:12]}-{fmt}-v{FORMAT_VERSION}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_file_lock(target.parent / f".{target.name}.lock"):
        if verify_manifest(target, source_sha256=digest, fmt=fmt):
            logger.debug("embedding model %s: reusing %s", model_dir, target)
        else:
            _export(model_dir, target, digest, fmt, progress=progress, timeout_s=timeout_s)
    return target / GRAPH_FILE[fmt]


def _export(
    model_dir: Path, target: Path, digest: str, fmt: str, *, progress: Callable[[str], None] | None, timeout_s: float
) -> None:
    staging = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    message = f"preparing the {fmt} embedding model from {model_dir} into {target} (once per machine, 20-60 s)"
    logger.warning(message) if progress is None else progress(message)
    command = [sys.executable, "-m", "groundwork.retrieval.embedding_export"]
    command += ["--model-dir", str(model_dir), "--out", str(staging), "--format", fmt]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise EmbeddingCacheError(f"exporting {model_dir} to {fmt} failed: {exc}") from exc
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise EmbeddingCacheError(f"exporting {model_dir} to {fmt} exited {done.returncode}:\n{tail}")
    write_manifest(staging, source_uri=str(model_dir), source_sha256=digest, fmt=fmt)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    logger.info("embedding model %s: %s made in %.1f s", model_dir, fmt, time.perf_counter() - started)


def write_manifest(directory: Path, *, source_uri: str, source_sha256: str, fmt: str) -> Path:
    """Record the SHA-256 and size of every file in `directory` (the manifest itself excluded)."""
    files = {
        str(p.relative_to(directory)): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }
    manifest = {
        "version": FORMAT_VERSION,
        "format": fmt,
        "source_uri": source_uri,
        "source_sha256": source_sha256,
        "files": files,
    }
    path = directory / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def verify_manifest(directory: Path, *, source_sha256: str, fmt: str) -> bool:
    """True if `directory` holds a manifest for this source and format, every listed file matches it, and no
    file is missing from the listing or added to it."""
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    if (manifest.get("version"), manifest.get("format"), manifest.get("source_sha256")) != (
        FORMAT_VERSION,
        fmt,
        source_sha256,
    ):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or GRAPH_FILE[fmt] not in files:
        return False
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_NAME}
    if present != set(files):
        logger.warning("embedding cache %s: files differ from its manifest; making it again", directory)
        return False
    for name, entry in files.items():
        file = directory / name
        if file.stat().st_size != entry.get("size") or sha256_file(file) != entry.get("sha256"):
            logger.warning("embedding cache %s: %s does not match its manifest; making it again", directory, name)
            return False
    return True


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    known = _HASHED.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    _HASHED[key] = digest.hexdigest()
    return _HASHED[key]


@contextlib.contextmanager
def exclusive_file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if missing), across processes on this machine."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
