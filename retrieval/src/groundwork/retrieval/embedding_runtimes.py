"""Running an exported embedding graph (ONNX Runtime or OpenVINO) without torch: the model's own fast
tokenizer, length-sorted batches, mean pooling and L2 normalisation in numpy (what sentence-transformers'
Transformer -> Pooling(mean) -> Normalize modules compute)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from groundwork.retrieval.errors import RetrievalError
from groundwork.retrieval.protocols import Vectors

TOKENS_PER_BATCH = 8192
"""Padded tokens per forward pass: short texts (queries, small chunks) go many to a batch, long ones fewer."""


class GraphRunner(Protocol):
    def run(self, input_ids: np.ndarray[Any, Any], attention_mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The last hidden state, (batch, sequence, dimension)."""
        ...


class FastTokenizer:
    """The model's `tokenizer.json` in the Rust `tokenizers` library: one batched, GIL-free call per encode."""

    def __init__(self, model_dir: Path, max_seq_length: int) -> None:
        from tokenizers import Tokenizer

        path = model_dir / "tokenizer.json"
        if not path.is_file():
            raise RetrievalError(f"embedding model directory {model_dir} has no tokenizer.json")
        self._plain = Tokenizer.from_file(str(path))
        self._plain.no_padding()
        self._plain.no_truncation()
        self._model_input = Tokenizer.from_file(str(path))
        self._model_input.no_padding()
        self._model_input.enable_truncation(max_length=max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self._plain.encode(text, add_special_tokens=False).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in self._plain.encode(text, add_special_tokens=False).offsets]

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self._model_input.encode_batch(list(texts))]


def require_mean_pooling(model_dir: Path) -> None:
    """The exported graph stops at the transformer; only mean pooling is re-implemented here."""
    config = model_dir / "1_Pooling" / "config.json"
    try:
        pooling = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RetrievalError(f"{config}: cannot read the pooling configuration ({exc})") from exc
    if not pooling.get("pooling_mode_mean_tokens") or any(
        pooling.get(k)
        for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    ):
        raise RetrievalError(f"{model_dir}: the onnx and openvino backends support mean pooling only (use torch)")


def encode_texts(tokenizer: FastTokenizer, runner: GraphRunner, texts: Sequence[str], dimension: int) -> Vectors:
    """Normalised embeddings of `texts`, in order: tokenised once, run longest first in batches of similar length
    (little padding), mean-pooled over real tokens."""
    ids = tokenizer.encode(texts)
    lengths = np.array([len(i) for i in ids], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    out = np.empty((len(texts), dimension), dtype=np.float32)
    start = 0
    while start < len(order):
        width = int(lengths[order[start]])
        count = max(1, TOKENS_PER_BATCH // max(width, 1))
        rows = order[start : start + count]
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for k, row in enumerate(rows):
            input_ids[k, : lengths[row]] = ids[row]
            mask[k, : lengths[row]] = 1
        hidden = np.asarray(runner.run(input_ids, mask), dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        start += count
    return out


def cpu_threads(requested: int) -> int:
    return requested if requested > 0 else max(1, len(os.sched_getaffinity(0)))


class OnnxRunner:
    """ONNX Runtime on CPU; `run` is thread-safe (one session shared by ingestion and queries)."""

    def __init__(self, graph: Path, *, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = cpu_threads(threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def run(self, input_ids: np.ndarray[Any, Any], attention_mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)}
        return np.asarray(self._session.run(None, feed)[0])


class OpenVinoRunner:
    """OpenVINO on CPU, compiled for latency (one stream) at the given precision (`bf16` uses AVX512_BF16/AMX)."""

    def __init__(self, graph: Path, *, precision: str, threads: int) -> None:
        import openvino

        core = openvino.Core()
        config = {
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
            "INFERENCE_NUM_THREADS": cpu_threads(threads),
            "PERFORMANCE_HINT": "LATENCY",
        }
        self._compiled = core.compile_model(core.read_model(str(graph)), "CPU", config)

    def run(self, input_ids: np.ndarray[Any, Any], attention_mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        request = self._compiled.create_infer_request()  # one per call: a request is not thread-safe
        feed = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)}
        result = request.infer(feed)
        return np.asarray(result[self._compiled.output(0)])
