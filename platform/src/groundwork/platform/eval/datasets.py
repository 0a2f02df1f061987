"""Retrieval evaluation sets in BEIR's shape: corpus, queries, graded relevance judgements.

Qrels are read in BEIR's layout (`query-id<TAB>corpus-id<TAB>score`, with or without that header line) and in
TREC's (`query-id iteration corpus-id relevance`, whitespace separated). Scores are graded integers; 0 or less
is "judged not relevant". A line that fits neither layout is refused with its file and line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from groundwork.platform.errors import InvalidRequestError


@dataclass(frozen=True)
class CorpusDocument:
    id: str
    title: str
    text: str
    mime_type: str = "text/plain"
    """How the text is parsed when ingested (documentation sets are Markdown)."""


@dataclass(frozen=True)
class RetrievalDataset:
    name: str
    corpus: list[CorpusDocument]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        raise InvalidRequestError(f"{path} does not exist")
    rows: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(f"{path}:{number}: not a JSON object ({exc.msg})") from exc
            if not isinstance(row, dict) or ("_id" not in row and "id" not in row):
                raise InvalidRequestError(f"{path}:{number}: each line must be a JSON object with an id")
            rows.append(row)
    return rows


def _qrels_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line.split("\t") if "\t" in line else line.split()


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Graded judgements {query id: {corpus id: score}} from a BEIR (3 columns, optional header) or TREC
    (4 columns) qrels file. Raises `InvalidRequestError` naming the line of the first malformed row."""
    if not path.exists():
        raise InvalidRequestError(f"{path} does not exist (is --split right?)")
    qrels: dict[str, dict[str, int]] = {}
    for number, cells in _qrels_rows(path):
        cells = [cell.strip() for cell in cells]
        if len(cells) not in (3, 4) or not all(cells):
            raise InvalidRequestError(
                f"{path}:{number}: expected 3 columns (query-id, corpus-id, score) or 4 (TREC: query-id, "
                f"iteration, corpus-id, relevance), got {len(cells)}: {' | '.join(cells)[:120]!r}"
            )
        query_id, corpus_id, score = (cells[0], cells[1], cells[2]) if len(cells) == 3 else (cells[0], *cells[2:])
        try:
            grade = int(score)
        except ValueError:
            if not qrels and not _numeric(score):
                continue  # a header line (BEIR writes `query-id corpus-id score`)
            raise InvalidRequestError(
                f"{path}:{number}: relevance {score!r} is not an integer grade (0 = not relevant, 1, 2, ...)"
            ) from None
        qrels.setdefault(query_id, {})[corpus_id] = grade
    if not qrels:
        raise InvalidRequestError(f"{path} holds no relevance judgements")
    return qrels


def _queries(path: Path, qrels: dict[str, dict[str, int]]) -> dict[str, str]:
    """The queries with at least one relevant document (others cannot be scored)."""
    queries = {
        str(q.get("_id", q.get("id"))): str(q.get("text", ""))
        for q in _jsonl(path)
        if any(grade > 0 for grade in qrels.get(str(q.get("_id", q.get("id"))), {}).values())
    }
    if not queries:
        raise InvalidRequestError(f"no query of {path} has a relevant document in the qrels")
    return queries


def docs_corpus(root: Path, include: str = "*.md", exclude: Sequence[str] = ()) -> list[CorpusDocument]:
    """A documentation folder as a corpus: one Markdown document per file, its id the path under `root`;
    files under an `exclude` prefix (relative paths) are left out."""
    if not root.is_dir():
        raise InvalidRequestError(f"{root} is not a directory")
    documents = []
    for path in sorted(root.rglob(include)):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not any(relative.startswith(prefix) for prefix in exclude):
            documents.append(CorpusDocument(relative, "", path.read_text(encoding="utf-8"), "text/markdown"))
    return documents


def _corpus_exclusions(directory: Path) -> list[str]:
    """`corpus.json` of a queries+qrels-only set: {"exclude": [path prefixes of the docs folder to leave out]}."""
    spec = directory / "corpus.json"
    if not spec.exists():
        return []
    try:
        exclude = json.loads(spec.read_text(encoding="utf-8")).get("exclude", [])
    except (json.JSONDecodeError, AttributeError) as exc:
        raise InvalidRequestError(f"{spec}: expected a JSON object with an `exclude` list") from exc
    if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
        raise InvalidRequestError(f"{spec}: `exclude` must be a list of path prefixes")
    return exclude


def load_beir(directory: Path, split: str = "test", docs: Path | None = None) -> RetrievalDataset:
    """A BEIR dataset folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv. Only judged queries are kept.
    With `docs`, the corpus is that documentation folder's Markdown files instead (`docs_corpus`): the
    packaged question sets over `../shared/data/engdocs` ship queries and qrels only."""
    qrels = read_qrels(directory / "qrels" / f"{split}.tsv")
    queries = _queries(directory / "queries.jsonl", qrels)
    if docs is not None:
        corpus = docs_corpus(docs, exclude=_corpus_exclusions(directory))
    elif (directory / "corpus.jsonl").exists():
        corpus = [
            CorpusDocument(str(d["_id"]), str(d.get("title") or ""), str(d.get("text") or ""))
            for d in _jsonl(directory / "corpus.jsonl")
        ]
    else:
        raise InvalidRequestError(f"{directory} has no corpus.jsonl; name the documentation folder with --docs")
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
