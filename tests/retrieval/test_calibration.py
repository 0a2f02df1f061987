"""Calibration on a real HybridIndex (FAISS + tantivy) with the packaged MiniLM: deterministic, and it moves
the weight towards the ranker that finds the pseudo-queries' sources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from groundwork.retrieval.calibration import WEIGHT_GRID, Calibration, calibrate, pseudo_queries
from groundwork.retrieval.embedder import SentenceTransformerEmbedder
from groundwork.retrieval.store import HybridIndex

from ..conftest import shared_data


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    model = SentenceTransformerEmbedder()
    model.warm_up()
    return model


@pytest.fixture(scope="module")
def corpus() -> list[tuple[int, str]]:
    rows = []
    with shared_data("beir-scifact", "corpus.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= 60:
                break
            rows.append((number, json.loads(line)["text"][:700]))
    return rows


@pytest.fixture(scope="module")
def index(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder, corpus: list[tuple[int, str]]
) -> Iterator[HybridIndex]:
    built = HybridIndex(tmp_path_factory.mktemp("calibration"), embedder.dimension, embedder.model_name)
    ids, texts = [i for i, _ in corpus], [t for _, t in corpus]
    built.apply(add_ids=ids, vectors=embedder.embed_documents(texts), texts=texts)
    yield built
    built.close()


def test_pseudo_queries_are_deterministic_prose_sentences_of_their_chunk(corpus: list[tuple[int, str]]) -> None:
    first = pseudo_queries(corpus, 30)
    assert first == pseudo_queries(list(reversed(corpus)), 30)  # order of the input does not matter
    assert len(first) == 30 and len({q.source for q in first}) == 30
    texts = dict(corpus)
    for query in first:
        assert " ".join(query.text.split()) in " ".join(texts[query.source].split())
        assert len(query.text.split()) >= 6
    assert pseudo_queries(corpus, 30, seed=1) != first
    assert pseudo_queries([(1, "x = 1; y = 2"), (2, "")], 5) == []


def test_calibration_is_deterministic_and_picks_a_grid_weight(
    index: HybridIndex, embedder: SentenceTransformerEmbedder, corpus: list[tuple[int, str]]
) -> None:
    queries = pseudo_queries(corpus, 40)
    first = calibrate(index, embedder.embed_queries, queries, chunk_count=index.vector_count, generation=3)
    second = calibrate(index, embedder.embed_queries, queries, chunk_count=index.vector_count, generation=3)
    assert first is not None and second is not None
    assert {**first.as_dict(), "seconds": 0} == {**second.as_dict(), "seconds": 0}
    assert first.dense_weight in WEIGHT_GRID and abs(first.dense_weight + first.lexical_weight - 1) < 1e-9
    assert first.fused_mrr >= max(first.dense_mrr, first.lexical_mrr) - 0.05
    assert first.generation == 3 and first.chunk_count == 60 and first.pseudo_queries == 40
    assert Calibration.from_dict(json.loads(json.dumps(first.as_dict()))) == first
    assert calibrate(index, embedder.embed_queries, [], chunk_count=1, generation=0) is None


def test_calibration_follows_the_ranker_that_finds_the_sources(
    index: HybridIndex, embedder: SentenceTransformerEmbedder, corpus: list[tuple[int, str]]
) -> None:
    queries = pseudo_queries(corpus, 40)

    def noise(texts: object) -> np.ndarray:  # an embedder that knows nothing: lexical must take over
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(len(queries), embedder.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    blind = calibrate(index, noise, queries, chunk_count=60, generation=0)
    assert blind is not None and blind.dense_weight < 0.5
    assert blind.dense_mrr < 0.2 < blind.lexical_mrr


def test_calibration_is_saved_with_the_index_generation(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, corpus: list[tuple[int, str]]
) -> None:
    built = HybridIndex(tmp_path, embedder.dimension, embedder.model_name)
    texts = [t for _, t in corpus[:20]]
    built.apply(add_ids=list(range(20)), vectors=embedder.embed_documents(texts), texts=texts)
    built.calibration = calibrate(
        built, embedder.embed_queries, pseudo_queries(corpus[:20], 10), chunk_count=20, generation=7
    )
    built.save(7)
    built.close()
    loaded = HybridIndex.load(tmp_path, embedder.model_name)
    try:
        assert loaded.calibration == built.calibration and loaded.generation == 7
    finally:
        loaded.close()


def test_held_out_queries_ask_for_the_siblings_without_the_source() -> None:
    from groundwork.retrieval.calibration import PseudoQuery, held_out

    queries = held_out([PseudoQuery("a b c d e f", 1), PseudoQuery("g h i j k l", 5)], {1: [1, 2, 3], 5: [5]})
    assert queries == [PseudoQuery("a b c d e f", 1, frozenset({2, 3}))]
    # The source itself no longer counts (and no longer takes a rank): the sibling at rank 3 is at rank 2.
    assert queries[0].score([1, 9, 3]) == 0.5
    assert PseudoQuery("x", 1).score([4, 1]) == 0.5
