"""`groundwork eval retrieval --modes`: which modes and fusion variants one run scores, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich.progress import Progress

from groundwork.platform.backends import Backend, LocalBackend
from groundwork.platform.errors import InvalidRequestError
from groundwork.platform.eval.datasets import RetrievalDataset
from groundwork.platform.eval.retrieval import ModeScores, evaluate_fusions, evaluate_mode, fusion_variants
from groundwork.retrieval.calibration import Calibration
from groundwork.retrieval.types import SearchMode

SEARCH_MODES = tuple(mode.value for mode in SearchMode)
FUSION_NAMES = ("rrf", "convex", "dbsf", "spread", "calibrated", "calibrated-spread")


def parse_modes(spec: str) -> list[str]:
    """`dense,hybrid,rrf` -> those names in order; `all` -> every one. Unknown names are refused."""
    names = [part.strip() for part in spec.split(",") if part.strip()]
    if names == ["all"]:
        return [*SEARCH_MODES, *FUSION_NAMES]
    unknown = [name for name in names if name not in SEARCH_MODES and name not in FUSION_NAMES]
    if unknown or not names:
        raise InvalidRequestError(
            f"unknown mode(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(SEARCH_MODES + FUSION_NAMES)}"
        )
    return list(dict.fromkeys(names))


def datastore_calibration(backend: Backend, datastore_id: str) -> Calibration | None:
    """The datastore's calibration, read from its index (local data directory only)."""
    if not isinstance(backend, LocalBackend):
        return None
    return backend.services.indexes.get(datastore_id).calibration


def score_modes(
    backend: Backend,
    dataset: RetrievalDataset,
    datastore_id: str,
    modes: Sequence[str],
    progress: Progress,
    *,
    strict: bool = True,
) -> list[ModeScores]:
    """Search modes run the real search; fusion variants fuse the same dense and lexical candidates offline.
    Calibrated variants need the datastore's calibration: without one they are refused, or (`strict=False`,
    for `--modes all`) skipped."""
    available = fusion_variants(datastore_calibration(backend, datastore_id))
    missing = [name for name in modes if name in FUSION_NAMES and name not in available]
    if missing and not strict:
        modes, missing = [name for name in modes if name not in missing], []
    if missing:
        raise InvalidRequestError(
            f"{', '.join(missing)} need the datastore's calibration: run locally (no --url) on a datastore "
            "with at least retrieval.calibration.min_chunks chunks"
        )
    by_name: dict[str, ModeScores] = {}
    for name in modes:
        if name in SEARCH_MODES:
            task = progress.add_task(f"querying ({name})", total=len(dataset.queries))
            by_name[name] = evaluate_mode(
                backend, dataset, datastore_id, SearchMode(name), partial(progress.advance, task)
            )
    variants = {name: available[name] for name in modes if name in FUSION_NAMES}
    if variants:
        task = progress.add_task(f"fusing ({len(variants)} variants)", total=len(dataset.queries))
        for scores in evaluate_fusions(backend, dataset, datastore_id, variants, partial(progress.advance, task)):
            by_name[scores.mode] = scores
    return [by_name[name] for name in modes]
