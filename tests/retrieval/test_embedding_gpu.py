"""`embedding.device=cuda` with bf16: the packaged model on the accelerator gives the CPU's fp32 vectors.
Skipped where torch sees no CUDA device (CI, the development machine)."""

from __future__ import annotations

import numpy as np
import pytest

from groundwork.platform.config import EmbeddingConfig
from groundwork.retrieval.embedder import SentenceTransformerEmbedder

TEXTS = [
    "Vitamin D deficiency is associated with a higher risk of respiratory infection.",
    "Set ttlInSeconds on a state record to expire it after that many seconds.",
    "Actor reminders survive the deactivation of the actor that registered them.",
]


@pytest.mark.gpu
def test_cuda_bf16_vectors_match_cpu_fp32() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    config = EmbeddingConfig(device="cuda", precision="bf16")
    assert config.backend == "torch"  # a GPU device selects torch unless a backend is named
    gpu = SentenceTransformerEmbedder(device=config.device, backend=config.backend, precision=config.precision)
    gpu.warm_up()
    cpu = SentenceTransformerEmbedder(backend="torch", precision="fp32")
    cpu.warm_up()
    vectors = gpu.embed_documents(TEXTS)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert float((vectors * cpu.embed_documents(TEXTS)).sum(axis=1).min()) >= 0.99
    assert gpu.identity.endswith("#torch-bf16")
