"""Retrieval evaluation sets in BEIR's shape: corpus, queries, graded relevance judgements."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from groundwork.platform.errors import InvalidRequestError


@dataclass(frozen=True)
class CorpusDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class RetrievalDataset:
    name: str
    corpus: list[CorpusDocument]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        raise InvalidRequestError(f"{path} does not exist")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_beir(directory: Path, split: str = "test") -> RetrievalDataset:
    """A BEIR dataset folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv. Only judged queries are kept."""
    qrels: dict[str, dict[str, int]] = {}
    qrels_path = directory / "qrels" / f"{split}.tsv"
    if not qrels_path.exists():
        raise InvalidRequestError(f"{qrels_path} does not exist (is --split right?)")
    with qrels_path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    queries = {str(q["_id"]): str(q["text"]) for q in _jsonl(directory / "queries.jsonl") if str(q["_id"]) in qrels}
    corpus = [
        CorpusDocument(str(d["_id"]), str(d.get("title") or ""), str(d.get("text") or ""))
        for d in _jsonl(directory / "corpus.jsonl")
    ]
    return RetrievalDataset(directory.name, corpus, queries, {q: qrels[q] for q in queries})


def load_pubmedqa(directory: Path, split: str = "test") -> RetrievalDataset:
    """PubMedQA as a retrieval set: each question's gold passages are its relevant documents."""
    questions = [q for q in _jsonl(directory / "questions.jsonl") if split == "all" or q.get("split") == split]
    if not questions:
        raise InvalidRequestError(f"no PubMedQA questions in split {split!r} (test, dev_or_train or all)")
    queries = {str(q["id"]): str(q["question"]) for q in questions}
    qrels = {str(q["id"]): {str(doc): 1 for doc in q["gold_doc_ids"]} for q in questions}  # type: ignore[attr-defined]
    corpus = [
        CorpusDocument(str(d["_id"]), str(d.get("title") or ""), str(d.get("text") or ""))
        for d in _jsonl(directory / "corpus.jsonl")
    ]
    return RetrievalDataset("pubmedqa", corpus, queries, qrels)


def pubmedqa_long_answers(directory: Path) -> dict[str, str]:
    """Each PubMedQA question's long answer (the abstract's conclusion), by question id."""
    return {str(q["id"]): str(q.get("long_answer") or "") for q in _jsonl(directory / "questions.jsonl")}
