from __future__ import annotations

import numpy as np
import pytest

from groundwork.retrieval.embedder import SentenceTransformerEmbedder
from groundwork.retrieval.errors import EmbedderNotReadyError


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    model = SentenceTransformerEmbedder()
    model.warm_up()
    return model


def test_packaged_minilm_gives_normalised_384_d_vectors(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.embed_documents(["Dapr sidecars run next to each app.", "Bananas are yellow."])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_related_texts_are_closer_than_unrelated(embedder: SentenceTransformerEmbedder) -> None:
    query = embedder.embed_queries(["how do I install the sidecar"])[0]
    docs = embedder.embed_documents(["Installing the Dapr sidecar on Kubernetes", "A recipe for banana bread"])
    assert float(docs[0] @ query) > float(docs[1] @ query) + 0.2


def test_token_counting_matches_offsets(embedder: SentenceTransformerEmbedder) -> None:
    text = "Groundwork cites every passage."
    offsets = embedder.token_offsets(text)
    assert embedder.count_tokens(text) == len(offsets) > 3
    assert text[offsets[0][0] : offsets[0][1]].lower() == "groundwork"[: offsets[0][1] - offsets[0][0]]
    assert embedder.embed_documents([]).shape == (0, 384)


def test_using_an_embedder_before_warm_up_is_an_error() -> None:
    with pytest.raises(EmbedderNotReadyError):
        SentenceTransformerEmbedder().embed_queries(["x"])
