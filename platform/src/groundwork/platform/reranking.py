"""Builds the configured `Reranker` (retrieval.rerank), resolving its model reference to a local directory."""

from __future__ import annotations

from pathlib import Path

from groundwork.platform.config import RerankConfig, StorageConfig
from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.modelstore.resolver import model_resolvers
from groundwork.retrieval.protocols import Reranker
from groundwork.retrieval.reranker import CrossEncoderReranker, LateInteractionReranker
from groundwork.serving.errors import ModelResolutionError


def model_directory(reference: str, storage: StorageConfig, cache_dir: Path) -> Path:
    """`package://`, `file://` and `gs://` references through the model resolvers; anything else is a path."""
    if "://" not in reference:
        return Path(reference).expanduser()
    try:
        return model_resolvers(storage, cache_dir.expanduser()).resolve(reference).path
    except ModelResolutionError as exc:
        raise InvalidRequestError(f"reranker model {reference!r}: {exc}") from exc


def build_reranker(config: RerankConfig, storage: StorageConfig) -> Reranker | None:
    """The reranker `config` asks for, warmed up; None when reranking is off."""
    if not config.enabled:
        return None
    path = model_directory(config.model, storage, config.cache_dir)
    kind = CrossEncoderReranker if config.kind == "cross-encoder" else LateInteractionReranker
    reranker: Reranker = kind(path, batch_size=config.batch_size, max_length=config.max_length, device=config.device)
    reranker.warm_up()
    return reranker
