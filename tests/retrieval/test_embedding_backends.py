"""The optimised embedding backends against fp32 torch on real SciFact text, and the cache they run from:
made once from the packaged weights, verified against its checksum manifest, made again when corrupt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from groundwork.retrieval.embedder import PACKAGED_MINILM, SentenceTransformerEmbedder, resolve_model_path
from groundwork.retrieval.embedding_cache import (
    MANIFEST_NAME,
    prepare_embedding_model,
    source_digest,
    verify_manifest,
)
from groundwork.retrieval.errors import RetrievalError
from tests.conftest import shared_data

DEFAULT_CACHE = Path("~/.cache/groundwork/embedding").expanduser()


@pytest.fixture(scope="module")
def chunks() -> list[str]:
    lines = shared_data("beir-scifact", "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:24]
    return [f"{d['title']}\n{d['text']}" for d in map(json.loads, lines)]


@pytest.fixture(scope="module")
def fp32_torch() -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(backend="torch", precision="fp32")
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="module")
def openvino_bf16() -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(backend="openvino", precision="bf16", cache_dir=DEFAULT_CACHE)
    embedder.warm_up()  # made by scripts/setup.sh (`groundwork models prepare-embedding`), or here once
    return embedder


@pytest.fixture
def cache_copy(openvino_bf16: SentenceTransformerEmbedder, tmp_path: Path) -> Path:
    """A copy of the prepared OpenVINO cache in a cache directory of the test's own."""
    model_dir = resolve_model_path(PACKAGED_MINILM)
    source = prepare_embedding_model(model_dir, DEFAULT_CACHE, "openvino").parent
    shutil.copytree(source, tmp_path / source.name)
    return tmp_path / source.name


def test_openvino_bf16_vectors_match_fp32_torch(
    chunks: list[str], fp32_torch: SentenceTransformerEmbedder, openvino_bf16: SentenceTransformerEmbedder
) -> None:
    reference = fp32_torch.embed_documents(chunks)
    vectors = openvino_bf16.embed_documents(chunks)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    cosine = (vectors * reference).sum(axis=1)
    assert float(np.median(cosine)) >= 0.999 and float(cosine.min()) >= 0.99
    # Batching does not change a text's vector: a query alone equals the same text in a batch.
    alone = openvino_bf16.embed_queries([chunks[3]])[0]
    assert float(alone @ vectors[3]) >= 0.999
    assert openvino_bf16.identity == f"{PACKAGED_MINILM}#openvino-bf16" and fp32_torch.identity == PACKAGED_MINILM


def test_tokens_are_counted_and_cut_as_torch_does(
    chunks: list[str], fp32_torch: SentenceTransformerEmbedder, openvino_bf16: SentenceTransformerEmbedder
) -> None:
    for text in chunks[:6]:
        assert openvino_bf16.count_tokens(text) == fp32_torch.count_tokens(text)
        assert openvino_bf16.token_offsets(text) == fp32_torch.token_offsets(text)


def test_a_verified_cache_is_reused_as_it_is(cache_copy: Path) -> None:
    model_dir = resolve_model_path(PACKAGED_MINILM)
    before = {p.name: p.stat().st_mtime_ns for p in cache_copy.iterdir()}
    graph = prepare_embedding_model(model_dir, cache_copy.parent, "openvino")
    assert graph == cache_copy / "model.xml"
    assert {p.name: p.stat().st_mtime_ns for p in cache_copy.iterdir()} == before


def test_corrupt_or_half_written_caches_fail_verification(cache_copy: Path) -> None:
    digest = source_digest(resolve_model_path(PACKAGED_MINILM))
    assert verify_manifest(cache_copy, source_sha256=digest, fmt="openvino")
    assert not verify_manifest(cache_copy, source_sha256=digest, fmt="onnx-int8")  # another format
    assert not verify_manifest(cache_copy, source_sha256="0" * 64, fmt="openvino")  # other weights
    weights = cache_copy / "model.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert not verify_manifest(cache_copy, source_sha256=digest, fmt="openvino")  # one flipped byte
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert verify_manifest(cache_copy, source_sha256=digest, fmt="openvino")
    (cache_copy / "stray.tmp").write_bytes(b"x")
    assert not verify_manifest(cache_copy, source_sha256=digest, fmt="openvino")  # an unlisted file
    (cache_copy / "stray.tmp").unlink()
    (cache_copy / MANIFEST_NAME).unlink()
    assert not verify_manifest(cache_copy, source_sha256=digest, fmt="openvino")  # killed before the manifest


@pytest.mark.slow
def test_a_corrupt_cache_is_made_again_and_then_gives_the_same_vectors(cache_copy: Path, chunks: list[str]) -> None:
    weights = cache_copy / "model.bin"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated, as by a full disk or a killed copy
    progress: list[str] = []
    model_dir = resolve_model_path(PACKAGED_MINILM)
    graph = prepare_embedding_model(model_dir, cache_copy.parent, "openvino", progress=progress.append)
    assert progress and "preparing the openvino embedding model" in progress[0]
    assert verify_manifest(cache_copy, source_sha256=source_digest(model_dir), fmt="openvino")
    assert graph.with_suffix(".bin").stat().st_size > 10_000_000
    rebuilt = SentenceTransformerEmbedder(backend="openvino", precision="bf16", cache_dir=cache_copy.parent)
    rebuilt.warm_up()
    reference = SentenceTransformerEmbedder(backend="openvino", precision="bf16", cache_dir=DEFAULT_CACHE)
    reference.warm_up()
    cosine = (rebuilt.embed_documents(chunks[:4]) * reference.embed_documents(chunks[:4])).sum(axis=1)
    assert float(cosine.min()) >= 0.9999


def test_unsupported_backend_settings_are_refused() -> None:
    with pytest.raises(RetrievalError, match="runs precision fp32 or int8"):
        SentenceTransformerEmbedder(backend="onnx", precision="bf16")
    with pytest.raises(RetrievalError, match="runs on cpu"):
        SentenceTransformerEmbedder(backend="openvino", precision="bf16", device="cuda")
    with pytest.raises(RetrievalError, match="unknown embedding backend"):
        SentenceTransformerEmbedder(backend="tensorrt")
