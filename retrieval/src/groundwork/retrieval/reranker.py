"""`Reranker`s: a cross-encoder (sentence-transformers `CrossEncoder`) or late interaction (ColBERT-style
MaxSim over a transformer's token embeddings). Both load from a local directory; the platform resolves
`package://` and `gs://` references to one first. Heavy imports happen in `warm_up()`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundwork.retrieval.errors import EmbedderNotReadyError, RetrievalError

logger = logging.getLogger(__name__)


def _check_dir(path: Path) -> None:
    if not (path / "config.json").is_file():
        raise RetrievalError(f"reranker model directory {path} has no config.json")


class CrossEncoderReranker:
    """Scores (query, passage) pairs with a cross-encoder: one forward pass per pair, read together."""

    def __init__(self, path: Path, *, batch_size: int = 16, max_length: int = 256, device: str = "cpu") -> None:
        self._path = path
        self._batch_size = batch_size
        self._max_length = max_length
        self._device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(self._path)

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            _check_dir(self._path)
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(
                str(self._path), max_length=self._max_length, device=self._device, local_files_only=True
            )
            logger.info("cross-encoder reranker loaded from %s", self._path)

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        if self._model is None:
            raise EmbedderNotReadyError("call warm_up() before using the reranker")
        if not passages:
            return []
        scores = self._model.predict(
            [(query, passage) for passage in passages], batch_size=self._batch_size, show_progress_bar=False
        )
        return [float(score) for score in scores]


class LateInteractionReranker:
    """MaxSim late interaction: each query token takes its best cosine match among the passage's tokens; the
    passage's score is the mean over query tokens. Works with any BERT-style encoder directory (the
    packaged MiniLM included), no trained head needed."""

    def __init__(self, path: Path, *, batch_size: int = 16, max_length: int = 256, device: str = "cpu") -> None:
        self._path = path
        self._batch_size = batch_size
        self._max_length = max_length
        self._device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(self._path)

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            _check_dir(self._path)
            from transformers import AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self._path), local_files_only=True)
            model = AutoModel.from_pretrained(str(self._path), local_files_only=True)
            self._model = model.to(self._device).eval()
            logger.info("late-interaction reranker loaded from %s", self._path)

    def _token_vectors(self, texts: Sequence[str]) -> tuple[Any, Any]:
        import torch

        encoded = self._tokenizer(
            list(texts), padding=True, truncation=True, max_length=self._max_length, return_tensors="pt"
        ).to(self._device)
        with torch.inference_mode():
            states = self._model(**encoded).last_hidden_state
        mask = encoded["attention_mask"].bool()
        mask[:, 0] = False  # [CLS]
        return torch.nn.functional.normalize(states, dim=-1), mask

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        if self._model is None:
            raise EmbedderNotReadyError("call warm_up() before using the reranker")
        if not passages:
            return []
        import torch

        query_vectors, query_mask = self._token_vectors([query])
        q = query_vectors[0][query_mask[0]]
        scores: list[float] = []
        for start in range(0, len(passages), self._batch_size):
            vectors, mask = self._token_vectors(passages[start : start + self._batch_size])
            similarity = torch.einsum("qd,btd->bqt", q, vectors).masked_fill(~mask[:, None, :], -1.0)
            scores.extend(similarity.max(dim=2).values.mean(dim=1).tolist())
        return [float(score) for score in scores]
