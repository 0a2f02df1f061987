from __future__ import annotations

import itertools

import pytest

from groundwork.ingestion.chunking import ChunkingOptions, chunk_document
from groundwork.ingestion.parsers.markdown import MarkdownParser
from groundwork.ingestion.parsers.types import ParseLimits
from groundwork.retrieval.embedder import SentenceTransformerEmbedder

from ..conftest import shared_data


@pytest.fixture(scope="module")
def tokenizer() -> SentenceTransformerEmbedder:
    model = SentenceTransformerEmbedder()
    model.warm_up()
    return model


def parse(markdown: str):  # type: ignore[no-untyped-def]
    return MarkdownParser().parse(markdown.encode(), filename="doc.md", limits=ParseLimits())


def test_chunks_follow_headings_and_keep_exact_offsets(tokenizer: SentenceTransformerEmbedder) -> None:
    document = parse(
        "# Guide\n\nIntro paragraph.\n\n## Install\n\nRun the installer.\n\n## Configure\n\nEdit the file.\n"
    )
    chunks = chunk_document(document, tokenizer, ChunkingOptions(max_tokens=50, overlap_tokens=5, min_tokens=1))
    assert [c.heading_path for c in chunks] == [("Guide",), ("Guide", "Install"), ("Guide", "Configure")]
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text


def test_long_sections_are_token_bounded_with_overlap(tokenizer: SentenceTransformerEmbedder) -> None:
    sentences = " ".join(f"Sentence number {i} talks about replication and consensus." for i in range(80))
    document = parse(f"# Raft\n\n{sentences}\n")
    options = ChunkingOptions(max_tokens=64, overlap_tokens=16, min_tokens=8)
    chunks = chunk_document(document, tokenizer, options)
    assert len(chunks) > 5
    for chunk in chunks:
        assert tokenizer.count_tokens(chunk.text) <= options.max_tokens + 2
        assert document.text[chunk.start : chunk.end] == chunk.text
    for first, second in itertools.pairwise(chunks):
        assert second.start < first.end, "consecutive pieces overlap"
        assert second.start > first.start
    assert chunks[0].text.rstrip().endswith("."), "cuts prefer sentence ends"


def test_small_paragraphs_under_one_heading_are_packed(tokenizer: SentenceTransformerEmbedder) -> None:
    paragraphs = "\n\n".join(f"Short paragraph {i}." for i in range(10))
    document = parse(f"# Notes\n\n{paragraphs}\n")
    chunks = chunk_document(document, tokenizer, ChunkingOptions(max_tokens=200, overlap_tokens=10, min_tokens=24))
    assert len(chunks) == 1
    assert chunks[0].text.startswith("Short paragraph 0.") and chunks[0].text.endswith("Short paragraph 9.")


def test_real_dapr_page_chunks_cover_its_text(tokenizer: SentenceTransformerEmbedder) -> None:
    root = shared_data("engdocs", "dapr-docs")
    page = next(p for p in sorted(root.rglob("*.md")) if p.stat().st_size > 6000)
    document = MarkdownParser().parse(page.read_bytes(), filename=page.name, limits=ParseLimits())
    options = ChunkingOptions()
    chunks = chunk_document(document, tokenizer, options)
    assert chunks
    covered = sum(len(c.text) for c in chunks)
    body = sum(len(b.text) for b in document.blocks if b.kind != "heading")
    assert covered >= 0.95 * body
    assert all(c.token_count <= options.max_tokens for c in chunks)
