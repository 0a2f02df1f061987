"""Fusion calibrated per datastore at index time (real ingestion, FAISS, tantivy, MiniLM), shown by
`groundwork datastore show`, overridable by settings; and the reranking slot with a tiny local model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from groundwork.platform.cli.main import app
from groundwork.platform.config import RerankConfig, RetrievalConfig
from groundwork.platform.documents import NewDocument
from groundwork.platform.search import SearchQuery
from groundwork.platform.services import Services, build_services
from groundwork.retrieval.embedder import PACKAGED_MINILM, resolve_model_path
from groundwork.retrieval.reranker import CrossEncoderReranker, LateInteractionReranker

from ..conftest import OPERATOR, make_settings, shared_data


def scifact(start: int, count: int) -> list[NewDocument]:
    rows = shared_data("beir-scifact", "corpus.jsonl").read_text(encoding="utf-8").splitlines()[start : start + count]
    docs = [json.loads(row) for row in rows]
    return [
        NewDocument(f"eval://s/{d['_id']}", f"{d['_id']}.txt", d["text"].encode(), "text/plain", title=d["title"])
        for d in docs
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calibrated") / "data"


@pytest.fixture(scope="module")
def calibrated(data_dir: Path) -> Iterator[tuple[Services, str]]:
    services = build_services(make_settings(data_dir), owner="pytest")
    try:
        datastore_id = services.documents.create_datastore(OPERATOR, "papers").id
        services.documents.submit(OPERATOR, datastore_id, scifact(0, 30))
        services.queue.wait_idle(120)
        yield services, datastore_id
    finally:
        services.close()


def test_a_datastore_is_calibrated_when_indexed_and_again_as_it_grows(calibrated: tuple[Services, str]) -> None:
    services, datastore_id = calibrated
    first = services.indexes.get(datastore_id).calibration
    assert first is not None and first.chunk_count >= 50 and first.pseudo_queries >= 5
    assert first.dense_weight + first.lexical_weight == pytest.approx(1.0)
    assert services.search.fusion_for([datastore_id]).dense_weight == pytest.approx(first.dense_weight)
    services.documents.submit(OPERATOR, datastore_id, scifact(30, 45))
    services.queue.wait_idle(120)
    index = services.indexes.get(datastore_id)
    second = index.calibration
    assert second is not None and second.chunk_count >= 2 * first.chunk_count
    assert second.generation <= index.generation
    services.indexes.checkpoint(datastore_id)
    hits = services.search.search(SearchQuery("vitamin D deficiency", [datastore_id], top_k=3), OPERATOR).hits
    assert len(hits) == 3


def test_datastore_show_reports_the_calibration_and_the_override(
    calibrated: tuple[Services, str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, datastore_id = calibrated
    services.indexes.checkpoint(datastore_id)
    saved = services.indexes.get(datastore_id).calibration
    assert saved is not None
    monkeypatch.setenv("GROUNDWORK_DATA_DIR", str(data_dir))
    runner = CliRunner()
    shown = runner.invoke(app, ["datastore", "show", "papers", "--json"])
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.stdout)
    assert info["calibration"]["dense_weight"] == saved.dense_weight
    assert info["fusion"]["weights_from"] == "calibration"
    assert info["saved_generation"] == info["index_generation"]
    monkeypatch.setenv("GROUNDWORK_RETRIEVAL__FUSION_WEIGHTS", "fixed")
    monkeypatch.setenv("GROUNDWORK_RETRIEVAL__DENSE_WEIGHT", "0.8")
    overridden = json.loads(runner.invoke(app, ["datastore", "show", "papers", "--json"]).stdout)
    assert overridden["fusion"]["dense_weight"] == 0.8 and overridden["fusion"]["weights_from"].startswith("settings")
    table = runner.invoke(app, ["datastore", "show", "papers"])
    assert "pseudo-queries" in table.stdout
    assert runner.invoke(app, ["datastore", "show", "nope"]).exit_code == 1


def test_fixed_weights_setting_ignores_the_calibration(calibrated: tuple[Services, str]) -> None:
    from groundwork.platform.search import SearchService

    services, datastore_id = calibrated
    fixed = SearchService(
        services.database,
        services.indexes,
        services.embedder,
        RetrievalConfig(fusion_weights="fixed", dense_weight=0.9, lexical_weight=0.1),
    )
    assert fixed.fusion_for([datastore_id]).dense_weight == 0.9


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer cross-encoder made from the packaged MiniLM weights (no reranker can be downloaded here):
    MiniLM's first two layers and a seeded, untrained scoring head. It tests the slot, not ranking quality."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_model_path(PACKAGED_MINILM)
    target = tmp_path_factory.mktemp("tiny-cross-encoder")
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(source, num_labels=1, num_hidden_layers=2)
    AutoModelForSequenceClassification.from_pretrained(source, config=config).save_pretrained(target)
    AutoTokenizer.from_pretrained(source).save_pretrained(target)
    return target


def test_reranker_slot_orders_search_hits_by_the_model(tmp_path: Path, tiny_cross_encoder: Path) -> None:
    rerank = RerankConfig(enabled=True, kind="cross-encoder", model=str(tiny_cross_encoder), candidates=8)
    services = build_services(
        make_settings(tmp_path / "data", retrieval=RetrievalConfig(rerank=rerank)), owner="pytest"
    )
    try:
        datastore_id = services.documents.create_datastore(OPERATOR, "papers").id
        services.documents.submit(OPERATOR, datastore_id, scifact(0, 6))
        services.queue.wait_idle(120)
        query = "immune cells in the bone marrow"
        result = services.search.search(SearchQuery(query, [datastore_id], top_k=4), OPERATOR)
        assert len(result.hits) == 4 and "rerank_ms" in result.timings_ms
        scores = [hit.score for hit in result.hits]
        assert scores == sorted(scores, reverse=True)
        direct = CrossEncoderReranker(tiny_cross_encoder)
        direct.warm_up()
        assert direct.rerank(query, [hit.text for hit in result.hits]) == pytest.approx(scores, abs=1e-5)
    finally:
        services.close()


def test_late_interaction_reranker_prefers_the_passage_that_answers() -> None:
    reranker = LateInteractionReranker(resolve_model_path(PACKAGED_MINILM))
    reranker.warm_up()
    scores = reranker.rerank(
        "how do I reset the admin password?",
        [
            "The cluster autoscaler adds nodes when pods are pending.",
            "To reset the admin password, delete the admin.password key and restart the server.",
        ],
    )
    assert scores[1] > scores[0] and reranker.rerank("q", []) == []
